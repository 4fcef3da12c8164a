# posix_spawn/posix_spawnp report SPAWN with the child pid, path and argv;
# system/popen report SPAWN of /bin/sh -c; every child reports PROC_START
# naming the spawning process as its parent.
. "$(dirname "$0")/preload_lib.bash"
build entry_points
EP=$TEST_TMP/entry_points
echo data >in.txt
for s in posix_spawn posix_spawnp; do
  prog=/bin/cat
  [[ $s == posix_spawnp ]] && prog=cat
  trace "$EP" $s $prog in.txt
  assert_eq "$TRACE_RC" 0 "$s exit status"
  root=$(root_pid)
  child=$(qr "[.[] | select(.op == \"spawn\" and .pid == $root)][0].result")
  [[ $child -gt 0 ]] || fail "$s: no SPAWN with a child pid"
  want=/bin/cat
  [[ $prog == cat ]] && want=$(command -v cat)
  assert_count ".op == \"spawn\" and .s1 == \"$want\"" 1 "$s: SPAWN path resolved"
  assert_count ".op == \"spawn\" and .argv == [\"$prog\", \"in.txt\"]" 1 "$s: SPAWN argv"
  assert_count ".op == \"proc_start\" and .pid == $child and .fd == $root" 1 "$s: child started with ppid"
  assert_count ".op == \"wait\" and .pid == $root and .fd == $child and .result == 0" 1 "$s: child reaped"
done
trace "$EP" system 'cat in.txt >/dev/null'
root=$(root_pid)
assert_count ".op == \"spawn\" and .pid == $root and .s1 == \"/bin/sh\" and .argv == [\"sh\", \"-c\", \"cat in.txt >/dev/null\"]" 1 "system SPAWN"
assert_count ".op == \"proc_start\" and .fd == $root and (.argv[0] == \"sh\")" 1 "system's shell started"
trace "$EP" popen 'echo hi' $'hi\n'
assert_eq "$TRACE_RC" 0 "popen exit status"
root=$(root_pid)
assert_count ".op == \"spawn\" and .pid == $root and .argv == [\"sh\", \"-c\", \"echo hi\"]" 1 "popen SPAWN"
assert_count ".op == \"proc_start\" and .fd == $root" 1 "popen's shell started"
echo ok
