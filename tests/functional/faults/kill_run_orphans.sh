# When `roar run` is killed with SIGKILL, the job's processes (the root,
# its children, its background grandchildren) do not outlive it: nobody is
# left to record what they do.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_faults.bash"
new_project

for phase in running exiting; do
  check "the job's processes die with roar run killed while the job is $phase"
  rm -f started
  if [[ $phase == running ]]; then
    job='sleep 60 & (sleep 60; echo late > late.txt) & touch started; wait'
  else
    job='sleep 60 & touch started; exit 0' # the root is gone, a grandchild runs on
  fi
  FAULT_MARK=$FAULT_MARK "$ROAR" run -q sh -c "$job" &
  roar_pid=$!
  wait_file started 30 || true
  [[ -e started ]] || fail "the job did not start"
  [[ -n "$(marked_pids)" ]] || fail "no marked job process found while it runs (the check would be void)"
  kill -9 "$roar_pid"
  wait "$roar_pid" 2>/dev/null || true
  if ! wait_no_marked 5; then
    left=$(marked_pids | tr '\n' ' ')
    kill_marked
    fail "job processes still running 5 s after roar run was killed: $left"
  fi
done
echo ok
