# POSIX AIO writes (aio_write, the LIO_WRITE entries of lio_listio) are
# done by glibc's helper threads with calls the shim cannot see: each
# request counts as the first write of its fd when it is submitted
# (WRITE_FD), so a file opened without O_TRUNC and written only through
# AIO is an output; a LIO_READ entry is not a write.
. "$(dirname "$0")/preload_lib.bash"
build aio_writes
AW=$TEST_TMP/aio_writes
echo aaaaaa >a.txt
echo bbbbbb >b.txt
echo cccccc >c.txt

trace "$AW" a.txt b.txt c.txt
check "the AIO requests run as without the shim"
assert_eq "$TRACE_RC" 0 "exit status"
assert_eq "$(cat a.txt)" AIOaaa "a.txt"
assert_eq "$(cat b.txt)" LIObbb "b.txt"
fd_of() { qr "[.[] | select(.op == \"open\" and .s1 == \"$1\")][0].result"; }
check "aio_write is a WRITE_FD of its fd, before the request"
assert_count ".op == \"write_fd\" and .fd == $(fd_of a.txt)" 1 "WRITE_FD of a.txt's fd"
check "lio_listio: WRITE_FD for the LIO_WRITE entry only"
assert_count ".op == \"write_fd\" and .fd == $(fd_of b.txt)" 1 "WRITE_FD of b.txt's fd"
assert_count ".op == \"write_fd\" and .fd == $(fd_of c.txt)" 0 "no WRITE_FD of the LIO_READ fd"
assert_clean_ring

new_project
echo aaaaaa >a.txt
echo bbbbbb >b.txt
echo cccccc >c.txt
job "$AW" a.txt b.txt c.txt
check "roar run: both files written through AIO are outputs with b3sum's digests, the one read is an input"
assert_eq "$JOB_RC" 0 "exit status"
assert_io outputs a.txt
assert_io outputs b.txt
assert_not_io outputs c.txt
assert_io inputs c.txt
echo ok
