# The job-scoped roar-proxy never outlives its job's `roar run`: SIGKILL of
# roar run takes the proxy down shortly after (it holds the user's
# credentials), and a command that cannot be started leaves no proxy behind.
# The upstream is a loopback port nothing listens on; no request is sent.
. "$(dirname "$0")/../lib/common.sh"
[[ -x $ROAR_BUILD_DIR/bin/roar-proxy ]] || skip "roar-proxy not built"
export ROAR_UPSTREAM_S3_ENDPOINT=http://127.0.0.1:9
new_project
"$ROAR" proxy enable >/dev/null

# Pids of this project's job proxies (their log file is under .roar/logs).
project_proxies() { pgrep -f -- "--log-file $PROJECT/.roar/logs/proxy-" || true; }
# Whether `pid` is running (a zombie waiting for its reaper is not).
running() { [[ -r /proc/$1/stat ]] && [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]; }

check "a SIGKILLed roar run takes its proxy down"
"$ROAR" run -q sleep 60 &
roar_pid=$!
proxy=
for _ in $(seq 100); do
  proxy=$(pgrep -P "$roar_pid" -x roar-proxy || true)
  job=$(pgrep -P "$roar_pid" -x sleep || true)
  [[ -n $proxy && -n $job ]] && break
  sleep 0.1
done
[[ -n $proxy ]] || fail "no roar-proxy child of roar run appeared"
[[ -n $job ]] && on_exit "kill $job"
kill -9 "$roar_pid"
wait "$roar_pid" 2>/dev/null || true
for _ in $(seq 50); do
  running "$proxy" || break
  sleep 0.1
done
running "$proxy" && fail "roar-proxy (pid $proxy) still runs after roar run was killed"

check "a command that cannot be started leaves no proxy behind"
expect_failure "$ROAR" run ./no-such-program
assert_eq "$ERR_RC" 127 "exit for a missing program"
for pid in $(project_proxies); do
  running "$pid" && fail "roar-proxy (pid $pid) left behind"
done

check "a finished job's proxy is gone with it"
"$ROAR" run -q true
for pid in $(project_proxies); do
  running "$pid" && fail "roar-proxy (pid $pid) left behind"
done
echo ok
