# A job's roar-proxy never outlives the roar run that started it: killed
# with SIGKILL, roar run takes its proxy with it (the proxy asks for
# PR_SET_PDEATHSIG itself, --exit-with-parent), and a proxy whose parent is
# already gone when it starts exits at once.
. "$(dirname "$0")/../lib/common.sh"
new_project
"$ROAR" proxy enable >/dev/null
proxy_bin=$(dirname "$ROAR")/roar-proxy

check "the job's proxy is told which process it must not outlive"
"$ROAR" run -q sleep 30 &
roar_pid=$!
proxy_pid=
for _ in $(seq 100); do
  proxy_pid=$(pgrep -f -- "--exit-with-parent $roar_pid\$" || true)
  [[ -n "$proxy_pid" ]] && break
  sleep 0.05
done
[[ -n "$proxy_pid" ]] || fail "no roar-proxy with --exit-with-parent $roar_pid"

check "SIGKILL to roar run ends its proxy"
kill -KILL "$roar_pid"
wait "$roar_pid" 2>/dev/null || true
for _ in $(seq 100); do
  kill -0 "$proxy_pid" 2>/dev/null || break
  sleep 0.05
done
kill -0 "$proxy_pid" 2>/dev/null && fail "roar-proxy $proxy_pid still runs after roar run was killed"

check "a proxy started for a process that is gone exits at once"
set +e
"$proxy_bin" --listen 127.0.0.1:0 --exit-with-parent 1 2>/dev/null
rc=$?
set -e
[[ $rc -ne 0 ]] || fail "roar-proxy ran though its parent (pid 1) is not the one named"
