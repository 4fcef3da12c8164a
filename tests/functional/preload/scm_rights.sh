# fds received over a Unix socket (SCM_RIGHTS, through recvmsg or
# recvmmsg) are reported like inherited ones: FD_INHERITED with the path
# and flags, and READ_FD for a read-only one. Writes and reads through
# them are then recorded like through any fd: the receiving child is the
# writer of the file it appended to.
. "$(dirname "$0")/preload_lib.bash"
build scm_rights
SR=$TEST_TMP/scm_rights

for how in msg mmsg; do
  echo hello >in.txt
  echo first >app.txt
  trace "$SR" in.txt app.txt "$how"
  check "recv$how: the child copies through the fds it received"
  assert_eq "$TRACE_RC" 0 "exit status"
  assert_eq "$(cat app.txt)" "first
hello" "app.txt"
  root=$(root_pid)
  child=$(qr "[.[] | select(.op == \"proc_start\" and .fd == $root)][0].pid // 0")
  [[ $child -gt 0 ]] || fail "no child PROC_START"
  check "recv$how: the received read-only fd is known by its path and read"
  rfd=$(qr "[.[] | select(.op == \"fd_inherited\" and .pid == $child and .s1 == \"$WORK/in.txt\")][0].fd // -1")
  [[ $rfd -ge 0 ]] || fail "no FD_INHERITED of in.txt in the child"
  assert_count ".op == \"read_fd\" and .pid == $child and .fd == $rfd" 1 "READ_FD"
  check "recv$how: the received append fd is known by its path and flags, and its write reported"
  wfd=$(qr "[.[] | select(.op == \"fd_inherited\" and .pid == $child and .s1 == \"$WORK/app.txt\" and (.flags | bit(1024)) and (.flags % 4) == 1)][0].fd // -1")
  [[ $wfd -ge 0 ]] || fail "no FD_INHERITED of app.txt (O_WRONLY|O_APPEND) in the child"
  assert_count ".op == \"write_fd\" and .pid == $child and .fd == $wfd" 1 "WRITE_FD"
  assert_count ".op == \"read_fd\" and .pid == $child and .fd == $wfd" 0 "no READ_FD of a write-only fd"
  assert_clean_ring
done

new_project
echo hello >in.txt
echo first >app.txt
job "$SR" in.txt app.txt msg
check "roar run: the appended file is an output written by the child, with b3sum's digest"
assert_eq "$JOB_RC" 0 "exit status"
assert_io inputs in.txt
assert_io outputs app.txt
root=$(jq -r '.processes[0].pid // empty' <<<"$JOB")
writer=$(jq -r --arg p "$PROJECT/app.txt" '.outputs[] | select(.path == $p) | .pid // empty' <<<"$JOB")
[[ -n $writer ]] || fail "no writer pid for app.txt"
[[ -z $root || $writer != "$root" ]] || fail "app.txt attributed to the parent ($root), not the child"
echo ok
