# exit/_exit/_Exit report PROC_EXIT with the status; a return from main is
# reported by the destructor with ROAR_EXIT_STATUS_UNKNOWN; wait, wait4
# and waitid report each reaped child with its raw wait status.
. "$(dirname "$0")/preload_lib.bash"
build entry_points
EP=$TEST_TMP/entry_points
for e in exit _exit _Exit; do
  trace "$EP" $e 3
  assert_eq "$TRACE_RC" 3 "$e exit status"
  assert_count ".op == \"proc_exit\" and .result == 3 and .flags == 0" 1 "$e: PROC_EXIT 3"
done
trace "$EP" return 4
assert_eq "$TRACE_RC" 4 "return exit status"
assert_count '.op == "proc_exit" and .flags == 1' 1 "return from main: status unknown"

# atexit handlers run after exit() is called: their writes come before PROC_EXIT.
cat >atexit.c <<'C'
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
static void late(void) { int fd = open("late.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644); write(fd, "x", 1); close(fd); }
int main(void) { atexit(late); exit(2); }
C
gcc -O1 -o "$TEST_TMP/atexit" atexit.c
trace "$TEST_TMP/atexit"
open_idx=$(qr '[.[] | select(.op == "open" and .s1 == "late.txt")][0].index')
exit_idx=$(qr '[.[] | select(.op == "proc_exit")][0].index')
[[ $open_idx -lt $exit_idx ]] || fail "atexit handler's open after PROC_EXIT"
assert_count '.op == "proc_exit" and .result == 2 and .flags == 0' 1 "exit(2) from the destructor"

trace "$EP" wait
assert_eq "$TRACE_RC" 0 "wait exit status"
read -r p1 p2 p3 <"$TEST_TMP/stdout"
root=$(root_pid)
assert_count ".op == \"wait\" and .pid == $root and .fd == $p1 and .result == $((5 << 8))" 1 "wait: exited 5"
assert_count ".op == \"wait\" and .pid == $root and .fd == $p2 and .result == 9" 1 "wait4: killed by SIGKILL"
assert_count ".op == \"wait\" and .pid == $root and .fd == $p3 and .result == $((6 << 8))" 1 "waitid: exited 6, converted"
assert_count ".op == \"proc_exit\" and .pid == $p1 and .result == 5" 1 "child's own _exit(5)"
echo ok
