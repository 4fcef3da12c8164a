# Every exec variant reports EXEC (resolved path, argv, probe flags) before
# the exec, and the new image reports PROC_START in the same pid; a failed
# exec reports EXEC_FAILED with -errno.
. "$(dirname "$0")/preload_lib.bash"
build entry_points
EP=$TEST_TMP/entry_points
echo "exec target" >payload.txt
for e in execve execv execvp execvpe execl execlp execle fexecve execveat; do
  prog=/bin/cat
  [[ $e == execvp || $e == execvpe || $e == execlp ]] && prog=cat
  trace "$EP" $e $prog payload.txt
  assert_eq "$TRACE_RC" 0 "$e exit status"
  assert_eq "$(cat "$TEST_TMP/stdout")" "exec target" "$e ran cat"
  root=$(root_pid)
  want=/bin/cat
  [[ $prog == cat ]] && want=$(command -v cat)
  if [[ $e == fexecve ]]; then
    want=$(readlink -f /bin/cat)
  fi
  n=$(count ".op == \"exec\" and .pid == $root and .s1 == \"$want\" and .argv == [\"$prog\", \"payload.txt\"] and .flags == 0")
  assert_eq "$n" 1 "$e: EXEC of $want ($(q '[.[] | select(.op == "exec")]'))"
  exec_idx=$(qr "[.[] | select(.op == \"exec\")][0].index")
  assert_count ".op == \"proc_start\" and .pid == $root and .index > $exec_idx and .argv == [\"$prog\", \"payload.txt\"]" 1 "$e: the new image started"
  assert_count ".op == \"open\" and .pid == $root and .s1 == \"payload.txt\"" 1 "$e: the new image is observed"
done
trace "$EP" execve /nonexistent/prog x
assert_eq "$TRACE_RC" 127 "failed exec exit status"
assert_count '.op == "exec_failed" and .result == -2' 1 "EXEC_FAILED -ENOENT"
echo ok
