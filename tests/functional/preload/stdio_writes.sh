# stdio writes go through libc-internal calls the write() hook cannot see:
# a stream opened for append/update counts as written when opened, and
# stdout/stderr count as written at exit when stdio wrote to them (so
# `prog >> log` is attributed).
. "$(dirname "$0")/preload_lib.bash"
build entry_points
cat >printer.c <<'C'
#include <stdio.h>
int main(void) { printf("line\n"); return 0; }
C
gcc -O1 -o "$TEST_TMP/printer" printer.c
echo old >log.txt
trace sh -c "'$TEST_TMP/printer' >> log.txt"
pid=$(qr '[.[] | select(.op == "proc_start" and ((.argv[0] // "") | endswith("printer")))][0].pid')
assert_count ".op == \"fd_inherited\" and .pid == $pid and .fd == 1 and .s1 == \"$WORK/log.txt\"" 1 "stdout is log.txt"
assert_count ".op == \"write_fd\" and .pid == $pid and .fd == 1" 1 "printf to stdout counted as a write"
assert_eq "$(cat log.txt)" $'old\nline' "appended"
echo old >a.txt
trace "$TEST_TMP/entry_points" fopen a.txt a
fd=$(qr '[.[] | select(.op == "open" and .s1 == "a.txt")][0].result')
assert_count ".op == \"write_fd\" and .fd == $fd" 1 "append stream counted as written"
echo old >fd.txt
trace "$TEST_TMP/entry_points" fdopen fd.txt
fd=$(qr '[.[] | select(.op == "open" and .s1 == "fd.txt")][0].result')
assert_count ".op == \"write_fd\" and .fd == $fd" 1 "fdopen(\"a\") stream counted as written"
trace "$TEST_TMP/entry_points" fopen a.txt r
assert_count '.op == "write_fd"' 0 "a read stream is not"
echo ok
