# When `roar run` is killed with SIGKILL, its job-scoped roar-proxy (which
# holds the user's credentials in memory) exits too, within a few seconds.
source "$(dirname "$0")/../proxy/lib_s3.sh"
. "$(dirname "$0")/lib_faults.bash"
start_s3rver bucket
export ROAR_UPSTREAM_S3_ENDPOINT=$S3RVER_URL
new_project
"$ROAR" proxy enable >/dev/null

# marked_proxies: the marked processes that are roar-proxy.
marked_proxies() {
  local pid
  for pid in $(marked_pids); do
    [[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" == */roar-proxy ]] && echo "$pid"
  done
  return 0
}

check "the job-scoped proxy exits once roar run is killed"
FAULT_MARK=$FAULT_MARK "$ROAR" run -q sh -c 'touch started; sleep 60' &
roar_pid=$!
wait_file started 30 || true
[[ -e started ]] || fail "the job did not start"
# The proxy starts once the job has run 20 ms (or at its first S3
# connection), which can be after `started` appears: wait for it.
for ((i = 0; i < 100; i++)); do
  [[ -n "$(marked_proxies)" ]] && break
  sleep 0.1
done
[[ -n "$(marked_proxies)" ]] || fail "no job-scoped roar-proxy found while the job runs (the check would be void)"
kill -9 "$roar_pid"
wait "$roar_pid" 2>/dev/null || true
for ((i = 0; i < 50; i++)); do
  [[ -z "$(marked_proxies)" ]] && break
  sleep 0.1
done
left=$(marked_proxies | tr '\n' ' ')
[[ -z "$left" ]] || fail "roar-proxy still running 5 s after roar run was killed: $left"
echo ok
