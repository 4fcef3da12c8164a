# Connections over a cap wait instead of being refused (issue 10 item 6):
# with --max-connections 3, a fourth connection is not reset but served as
# soon as one of the first three ends; with --max-per-peer 2, a peer at
# its cap waits while another peer (127.0.0.2, or another user on
# 127.0.0.1) is served at once; an idle connection ends after the idle
# timeout and frees its slot.
source "$(dirname "$0")/lib_s3.sh"
export AWS_ACCESS_KEY_ID=AKIAROARQUEUE AWS_SECRET_ACCESS_KEY=queue-secret

# hold N SECONDS: N connections that send nothing for SECONDS, then close;
# returns once they are connected.
hold() {
  local ready=$TEST_TMP/held.$RANDOM i
  python3 - "$PROXY_PORT" "$1" "$2" "$ready" <<'PY' &
import socket, sys, time
port, n, secs, ready = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
open(ready, "w").close()
time.sleep(secs)
PY
  HOLD_PID=$!
  on_exit "kill $HOLD_PID 2>/dev/null"
  for ((i = 0; i < 200; i++)); do
    [[ -f $ready ]] && break
    sleep 0.05
  done
  [[ -f $ready ]] || fail "the held connections did not connect"
  sleep 0.2 # the proxy has accepted them
}

check "a connection over the total cap waits and is served when a slot frees"
start_proxy http://127.0.0.1:9 --max-connections 3
hold 3 3
t0=$SECONDS
assert_eq "$(curl -fsS --max-time 15 "$PROXY_URL/_roar/health")" ok "health over the cap"
waited=$((SECONDS - t0))
((waited >= 1)) || fail "the fourth connection was served at once (${waited}s): it did not wait"
echo "the fourth connection waited ${waited}s for a slot" >&2
stop_proxy

check "an idle connection ends after the idle timeout and frees its slot"
start_proxy http://127.0.0.1:9 --max-connections 2 --idle-timeout-ms 2000
hold 2 30
t0=$SECONDS
assert_eq "$(curl -fsS --max-time 15 "$PROXY_URL/_roar/health")" ok "health behind two idle connections"
waited=$((SECONDS - t0))
((waited >= 1 && waited <= 6)) || fail "served after ${waited}s; the idle timeout is 2 s"
stop_proxy

check "a peer at its cap waits while another peer is served at once"
start_proxy http://127.0.0.1:9 --max-per-peer 2
hold 2 30
assert_eq "$(curl -fsS --max-time 2 --interface 127.0.0.2 "$PROXY_URL/_roar/health")" ok "health from another peer"
if curl -fsS --max-time 2 "$PROXY_URL/_roar/health" >/dev/null 2>&1; then
  fail "a third connection from the capped peer was served at once"
fi
if [[ $(id -u) -eq 0 ]] && command -v setpriv >/dev/null; then
  check "another local user on 127.0.0.1 is another peer"
  got=$(setpriv --reuid=65534 --regid=65534 --clear-groups curl -fsS --max-time 2 "$PROXY_URL/_roar/health")
  assert_eq "$got" ok "health as another user"
fi
stop_proxy
