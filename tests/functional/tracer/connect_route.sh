# S3 routing of traced programs' connects (the tracer's side of issue 17):
# the s3route tests' C client, built static so only the ptrace tracer sees
# it, run under roar-events with the tracer and the job's ROAR_S3_*
# pointing at a PROXY v2 receiver (pp2_receiver.py, relaying to moto). A
# blocking and a non-blocking connect to a listed ip:port reach the
# receiver with the header first (original destination, pid, secret), and
# look ordinary to the program (0 / EINPROGRESS, SO_ERROR 0, getpeername =
# the original destination); IPv6 too. A connect to a loopback server that
# is in no rule is untouched: the server gets the program's own bytes, no
# header, and the job gets a note naming the address. TLS destinations are noted, not redirected. Without ROAR_S3_PROXY
# the filter has no connect stop at all.
source "$(dirname "$0")/../s3route/route_lib.bash"
need gcc
CLIENT=$TEST_TMP/net_client_static
gcc -static -O1 -Wall -o "$CLIENT" "$ROUTE_DIR/progs/net_client.c" 2>"$TEST_TMP/cc.err" ||
  skip "no static glibc: $(cat "$TEST_TMP/cc.err")"
moto_started
start_receiver

# routed HOSTS CMD...: CMD under roar-events with the tracer (auto: a static
# program is traced), routing to the receiver for HOSTS.
routed() {
  local hosts=$1
  shift
  local rc=0
  ROAR_S3_PROXY=127.0.0.1:$RECV_PORT ROAR_S3_SECRET=$ROUTE_SECRET ROAR_S3_HOSTS=$hosts \
    "$EVENTS_BIN" --tracer auto --output "$EV" -- "$@" >"$OUT" 2>"$TEST_TMP/stderr" || rc=$?
  if ((rc != 0)); then
    cat "$OUT" "$TEST_TMP/stderr" >&2
    fail "traced command failed ($rc): $*"
  fi
}
client_pid() { jq -r 'select(.op == "proc_start" and .flags != null) | .pid' "$EV" | tail -1; }
traced_by_ptrace() {
  [[ -n $(jq -r 'select(.op == "proc_start") | .pid' "$EV") ]] || fail "the static client was not traced"
}

check "a static program's blocking connect to a listed ip:port reaches the proxy behind a PROXY v2 header"
before=$(recv_lines)
routed "127.0.0.1:$MOTO_PORT" "$CLIENT" tcp4 127.0.0.1 "$MOTO_PORT" block
traced_by_ptrace
assert_eq "$(out connect)" 0 "connect"
assert_contains "$(out status)" "HTTP/1.1" "moto answered through the receiver"
conns=$(recv "$before")
assert_eq "$(jq length <<<"$conns")" 1 "connections through the receiver"
assert_eq "$(jq -r '.[0].dst' <<<"$conns")" "127.0.0.1:$MOTO_PORT" "header destination"
assert_eq "$(jq -r '.[0].pid' <<<"$conns")" "$(jq -r 'select(.op == "proc_start") | .pid' "$EV" | tail -1)" \
  "header pid = the traced process"
assert_contains "$(jq -r '.[0].first_line' <<<"$conns")" "GET / HTTP/1.1" "the program's first bytes follow the header"

check "getpeername of a redirected socket answers the original destination"
assert_eq "$(out peer)" "127.0.0.1:$MOTO_PORT" "getpeername"

check "a non-blocking connect returns EINPROGRESS and polls writable with SO_ERROR 0"
before=$(recv_lines)
routed "127.0.0.1:$MOTO_PORT" "$CLIENT" tcp4 127.0.0.1 "$MOTO_PORT" nonblock
assert_eq "$(out connect)" EINPROGRESS "connect"
assert_eq "$(out so_error)" 0 "SO_ERROR"
assert_eq "$(out peer)" "127.0.0.1:$MOTO_PORT" "getpeername"
assert_contains "$(out status)" "HTTP/1.1" "response"
assert_eq "$(recv "$before" | jq length)" 1 "connections through the receiver"

check "an IPv6 connect is redirected with an IPv6 header"
before=$(recv_lines)
routed "[::1]:$MOTO_PORT" "$CLIENT" tcp6 ::1 "$MOTO_PORT" nonblock
assert_eq "$(out peer)" "[::1]:$MOTO_PORT" "getpeername"
assert_contains "$(out status)" "HTTP/1.1" "response"
conns=$(recv "$before")
assert_eq "$(jq -r '.[0].family' <<<"$conns")" 6 "header family"
assert_eq "$(jq -r '.[0].dst' <<<"$conns")" "::1:$MOTO_PORT" "header destination"

check "a connection to a server in no rule is untouched: same bytes, no header"
plain_port=$(free_port)
"$PYTHON" -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); s.settimeout(60)
open(sys.argv[2] + ".ready", "w").close()
c, _ = s.accept(); data = b""
while b"\r\n\r\n" not in data and len(data) < 4096:
    chunk = c.recv(4096)
    if not chunk: break
    data += chunk
open(sys.argv[2], "wb").write(data)
c.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"); c.close()' "$plain_port" "$TEST_TMP/plain.got" &
plain_pid=$!
on_exit "kill $plain_pid 2>/dev/null"
for _ in $(seq 100); do [[ -e $TEST_TMP/plain.got.ready ]] && break; sleep 0.1; done
before=$(recv_lines)
routed "127.0.0.1:$MOTO_PORT" "$CLIENT" tcp4 127.0.0.1 "$plain_port" block
wait "$plain_pid"
assert_eq "$(head -c 14 "$TEST_TMP/plain.got")" "GET / HTTP/1.1" "the server's first bytes are the program's"
assert_eq "$(out peer)" "127.0.0.1:$plain_port" "getpeername"
assert_contains "$(out status)" "204" "the server's answer"
assert_eq "$(recv "$before" | jq length)" 0 "connections through the receiver"

check "a connection in no rule is noted once as not identified as S3, so a missed endpoint is never silent"
assert_eq "$(notes)" "TCP connection to 127.0.0.1:$plain_port not identified as S3 (the program resolves host names itself): if it is an S3 endpoint, list it in proxy.s3_hosts" "note"

check "TLS to a listed destination is connected as asked and noted once"
before=$(recv_lines)
routed "https://127.0.0.1:$MOTO_PORT" "$CLIENT" tcp4 127.0.0.1 "$MOTO_PORT" block
assert_contains "$(out status)" "HTTP/1.1" "direct response"
assert_eq "$(recv "$before" | jq length)" 0 "connections through the receiver"
assert_eq "$(notes)" "S3 over TLS to 127.0.0.1 not observed: enable proxy.intercept_tls" "note"

check "a proxy that is gone leaves the connection to its destination, with a note"
gone_port=$(free_port)
rc=0
ROAR_S3_PROXY=127.0.0.1:$gone_port ROAR_S3_SECRET=$ROUTE_SECRET ROAR_S3_HOSTS=127.0.0.1:$MOTO_PORT \
  "$EVENTS_BIN" --tracer auto --output "$EV" -- "$CLIENT" tcp4 127.0.0.1 "$MOTO_PORT" block >"$OUT" 2>&1 || rc=$?
assert_eq "$rc" 0 "client exit status"
assert_contains "$(out status)" "HTTP/1.1" "direct response"
assert_eq "$(notes)" "S3 connection to 127.0.0.1 not observed: the job's proxy did not accept it" "note"

check "without ROAR_S3_PROXY the program's connect and getpeername are not stopped on"
# The same run with routing on but its destination in no rule stops on
# exactly two more syscalls (its connect and getpeername) and is untouched.
syscall_stops() { sed -n 's/^roar-events: tracer: .*, \([0-9]*\) syscall stops$/\1/p' "$TEST_TMP/stderr"; }
before=$(recv_lines)
routed "127.0.0.1:1" "$CLIENT" tcp4 127.0.0.1 "$MOTO_PORT" block
assert_contains "$(out status)" "HTTP/1.1" "direct response"
with_routing=$(syscall_stops)
rc=0
env -u ROAR_S3_PROXY -u ROAR_S3_SECRET -u ROAR_S3_HOSTS \
  "$EVENTS_BIN" --tracer auto --output "$EV" -- "$CLIENT" tcp4 127.0.0.1 "$MOTO_PORT" block >"$OUT" 2>"$TEST_TMP/stderr" ||
  rc=$?
assert_eq "$rc" 0 "client exit status"
assert_contains "$(out status)" "HTTP/1.1" "direct response"
without=$(syscall_stops)
[[ $without =~ ^[0-9]+$ && $with_routing =~ ^[0-9]+$ && $without -gt 0 ]] || fail "no stop counts: '$without' '$with_routing'"
assert_eq "$((with_routing - without))" 2 "stops for connect and getpeername with routing on, none without"
assert_eq "$(recv "$before" | jq length)" 0 "connections through the receiver"
echo ok
