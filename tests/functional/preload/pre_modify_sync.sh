# A file the job reads and then rewrites: PRE_MODIFY comes before the
# rewriting open and the shim waits until the consumer has taken it (a
# sync point), so the collector can hash the old bytes. Same before rename
# over an existing file and unlink. Nothing for reads or fresh files.
. "$(dirname "$0")/preload_lib.bash"
echo original >data.txt
trace sh -c 'cat data.txt >/dev/null; echo rewritten > data.txt; echo fresh > new.txt; echo tmp > t; mv t data.txt; rm data.txt'
assert_clean_ring
pre=$(qr '[.[] | select(.op == "pre_modify" and .s1 == "data.txt")] | length')
[[ $pre -ge 3 ]] || fail "expected PRE_MODIFY before the rewrite, the rename and the unlink, got $pre"
first_pre=$(qr '[.[] | select(.op == "pre_modify" and .s1 == "data.txt")][0].index')
rewrite=$(qr '[.[] | select(.op == "open" and .s1 == "data.txt" and (.flags | bit(512)))][0].index')
[[ $first_pre -lt $rewrite ]] || fail "PRE_MODIFY after the rewriting open"
assert_count '.op == "pre_modify" and .s1 == "new.txt"' 0 "no PRE_MODIFY for a fresh file"
mv_pid=$(qr '[.[] | select(.op == "proc_start" and .argv[0] == "mv")][0].pid')
assert_count ".op == \"pre_modify\" and .pid == $mv_pid and .s1 == \"data.txt\"" 1 "mv announces the target it replaces"
rm_pid=$(qr '[.[] | select(.op == "proc_start" and .argv[0] == "rm")][0].pid')
assert_count ".op == \"pre_modify\" and .pid == $rm_pid and .s1 == \"data.txt\"" 1 "rm announces the file"

# The sync point waits for the consumer: a program timing its rewrite-open
# sees it return only after roar-events drained the PRE_MODIFY record (it
# polls every 5 ms; the doorbell wakes it sooner), and never longer than
# the ring's sync timeout (10 s for roar-events).
cat >rewrite.c <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
int main(void) {
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  int fd = open("data2.txt", O_WRONLY | O_TRUNC);
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%ld\n", (b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000);
  return fd < 0;
}
C
gcc -O1 -o "$TEST_TMP/rewrite" rewrite.c
echo old >data2.txt
trace "$TEST_TMP/rewrite"
assert_eq "$TRACE_RC" 0 "rewrite exit status"
us=$(cat "$TEST_TMP/stdout")
[[ $us -lt 5000000 ]] || fail "sync point took ${us} us"
assert_clean_ring
echo ok
