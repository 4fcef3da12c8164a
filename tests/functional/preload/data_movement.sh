# The first write-like use of an fd (write family, MAP_SHARED|PROT_WRITE
# mmap) reports WRITE_FD once; copy_file_range/sendfile/splice report
# TRANSFER with fd = in, fd2 = out and the byte count.
. "$(dirname "$0")/preload_lib.bash"
build entry_points
EP=$TEST_TMP/entry_points
for w in write pwrite writev pwritev pwritev2; do
  echo 0123456789 >f
  trace "$EP" $w f
  assert_eq "$TRACE_RC" 0 "$w exit status"
  root=$(root_pid)
  fd=$(qr "[.[] | select(.op == \"open\" and .s1 == \"f\" and .pid == $root)][0].result")
  assert_count ".op == \"write_fd\" and .fd == $fd and .pid == $root" 1 "$w: one WRITE_FD for three writes"
done
echo 0123456789 >f
trace "$EP" mmap f
assert_eq "$(head -c 4 f)" "MMAP" "the mapping wrote the file"
fd=$(qr '[.[] | select(.op == "open" and .s1 == "f")][0].result')
assert_count ".op == \"write_fd\" and .fd == $fd" 1 "shared writable mmap is a write"
trace "$EP" mmap_private f
assert_count '.op == "write_fd"' 0 "a private mapping is not"

head -c 60000 /dev/urandom >src.bin # fits in one pipe buffer for splice
for t in copy_file_range sendfile splice; do
  trace "$EP" $t src.bin dst.bin
  assert_eq "$TRACE_RC" 0 "$t exit status"
  cmp -s src.bin dst.bin || fail "$t did not copy"
  in=$(qr '[.[] | select(.op == "open" and .s1 == "src.bin")][0].result')
  out=$(qr '[.[] | select(.op == "open" and .s1 == "dst.bin")][0].result')
  if [[ $t == splice ]]; then
    assert_count ".op == \"transfer\" and .fd == $in and .result == 60000" 1 "splice file -> pipe"
    assert_count ".op == \"transfer\" and .fd2 == $out and .result == 60000" 1 "splice pipe -> file"
  else
    assert_count ".op == \"transfer\" and .fd == $in and .fd2 == $out and .result == 60000" 1 "$t in -> out"
  fi
done
echo ok
