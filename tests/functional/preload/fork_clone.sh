# fork, vfork (run as a real fork), _Fork and clone (a new process): FORK
# in the parent before the call, then the child's PROC_START(FORKED) with
# the parent's pid, and the child's own file I/O under the child's pid.
. "$(dirname "$0")/preload_lib.bash"
build entry_points
for f in fork vfork _Fork clone; do
  trace "$TEST_TMP/entry_points" $f "child-$f.txt"
  assert_eq "$TRACE_RC" 0 "$f exit status"
  assert_eq "$(cat "child-$f.txt")" "c" "$f child wrote"
  root=$(root_pid)
  fork_idx=$(qr "[.[] | select(.op == \"fork\" and .pid == $root)][0].index // -1")
  [[ $fork_idx -ge 0 ]] || fail "$f: no FORK from the parent"
  child=$(qr "[.[] | select(.op == \"proc_start\" and .flags == 4 and .fd == $root)][0].pid // 0")
  [[ $child -gt 0 && $child -ne $root ]] || fail "$f: no PROC_START(FORKED) naming $root"
  assert_count ".op == \"proc_start\" and .pid == $child and .index > $fork_idx and (has(\"s1\") | not)" 1 "$f: child start after FORK"
  assert_count ".op == \"open\" and .pid == $child and .s1 == \"child-$f.txt\" and .result >= 0" 1 "$f: child's open attributed to the child"
  assert_count ".op == \"write_fd\" and .pid == $child" 1 "$f: child's write"
  assert_count ".op == \"wait\" and .pid == $root and .fd == $child and .result == 0" 1 "$f: parent reaped the child"
done

# A double-forked daemon (daemon(3) forks inside libc): the grandchild is
# still seen, through the fork handler, after its parent has exited.
cat >daemonize.c <<'C'
#include <stdio.h>
#include <unistd.h>
int main(void) {
  if (daemon(1, 1) != 0) return 1;   /* fork inside libc, parent exits */
  if (fork() == 0) {                 /* the grandchild outlives its parent */
    sleep(1);
    FILE *f = fopen("daemon-out.txt", "w");
    fputs("daemon\n", f);
    fclose(f);
    _exit(0);
  }
  return 0;
}
C
gcc -O1 -o "$TEST_TMP/daemonize" daemonize.c
trace "$TEST_TMP/daemonize"
assert_eq "$(cat daemon-out.txt)" "daemon" "the grandchild ran to completion"
writer=$(qr '[.[] | select(.op == "open" and .s1 == "daemon-out.txt")][0].pid // 0')
[[ $writer -gt 0 ]] || fail "the grandchild's open was not observed"
assert_count ".op == \"proc_start\" and .pid == $writer and .flags == 4" 1 "grandchild PROC_START(FORKED)"
echo ok
