# A C client's connects: blocking and non-blocking, IPv4 and IPv6, by
# literal address, by getaddrinfo and by gethostbyname_r name; what it
# observes (EINPROGRESS, SO_ERROR 0, getpeername = the original
# destination) is what an ordinary connect shows. UDP, Unix sockets and
# unlisted destinations are untouched; TLS destinations are noted, and
# routed only with ROAR_S3_TLS=1.
source "$(dirname "$0")/route_lib.bash"
build_client
moto_started
start_receiver
c=$NET_CLIENT

check "a blocking IPv4 connect to a listed ip:port is redirected and looks ordinary"
before=$(recv_lines)
traced "127.0.0.1:$MOTO_PORT" "$c" tcp4 127.0.0.1 "$MOTO_PORT" block
assert_eq "$(out connect)" 0 "connect"
assert_eq "$(out peer)" "127.0.0.1:$MOTO_PORT" "getpeername"
assert_contains "$(out status)" "HTTP/1.1" "moto answered through the receiver"
conns=$(recv "$before")
assert_eq "$(jq -r '.[0].dst' <<<"$conns")" "127.0.0.1:$MOTO_PORT" "header destination"
assert_eq "$(jq -r '.[0].pid' <<<"$conns")" "$(jq -r 'select(.op == "proc_start") | .pid' "$EV" | head -1)" "pid"
assert_eq "$(jq -r '.[0].authority // "none"' <<<"$conns")" "none" "no authority for a literal address"

check "a non-blocking connect returns EINPROGRESS, polls writable with SO_ERROR 0"
before=$(recv_lines)
traced "127.0.0.1:$MOTO_PORT" "$c" tcp4 127.0.0.1 "$MOTO_PORT" nonblock
assert_eq "$(out connect)" EINPROGRESS "connect"
assert_eq "$(out so_error)" 0 "SO_ERROR"
assert_eq "$(out peer)" "127.0.0.1:$MOTO_PORT" "getpeername"
assert_contains "$(out status)" "HTTP/1.1" "response"
assert_eq "$(recv "$before" | jq length)" 1 "connections through the receiver"

check "an IPv6 connect is redirected with an IPv6 header naming [::1]"
before=$(recv_lines)
traced "[::1]:$MOTO_PORT" "$c" tcp6 ::1 "$MOTO_PORT" nonblock
assert_eq "$(out peer)" "[::1]:$MOTO_PORT" "getpeername"
assert_contains "$(out status)" "HTTP/1.1" "response"
conns=$(recv "$before")
assert_eq "$(jq -r '.[0].family' <<<"$conns")" 6 "header family"
assert_eq "$(jq -r '.[0].dst' <<<"$conns")" "::1:$MOTO_PORT" "header destination"

check "names resolved with getaddrinfo and gethostbyname_r route by name"
for mode in name hostent; do
  before=$(recv_lines)
  if [[ $mode == name ]]; then
    traced "localhost:$MOTO_PORT" "$c" name localhost "$MOTO_PORT" nonblock
  else
    traced "localhost:$MOTO_PORT" "$c" hostent localhost "$MOTO_PORT"
  fi
  assert_contains "$(out status)" "HTTP/1.1" "$mode: response"
  assert_eq "$(recv "$before" | jq -r '.[0].authority')" localhost "$mode: authority"
done

check "an unlisted destination, a UDP socket and a Unix socket are untouched"
before=$(recv_lines)
traced "localhost:1" "$c" tcp4 127.0.0.1 "$MOTO_PORT" block
assert_contains "$(out status)" "HTTP/1.1" "direct response"
udp_port=$(free_port)
"$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", int(sys.argv[1]))); s.settimeout(60)
open(sys.argv[2] + ".ready", "w").close()
open(sys.argv[2], "w").write(s.recv(64).decode())' "$udp_port" "$TEST_TMP/udp.got" &
udp_pid=$!
on_exit "kill $udp_pid 2>/dev/null"
for _ in $(seq 100); do [[ -e $TEST_TMP/udp.got.ready ]] && break; sleep 0.1; done
traced "127.0.0.1:$udp_port" "$c" udp 127.0.0.1 "$udp_port"
wait "$udp_pid"
assert_eq "$(cat "$TEST_TMP/udp.got")" ping "UDP datagram delivered directly"
assert_eq "$(out peer)" "127.0.0.1:$udp_port" "UDP getpeername"
sock=$TEST_TMP/echo.sock
"$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1); s.settimeout(60)
c, _ = s.accept(); c.sendall(c.recv(64))' "$sock" &
unix_pid=$!
on_exit "kill $unix_pid 2>/dev/null"
for _ in $(seq 50); do [[ -S $sock ]] && break; sleep 0.1; done
traced "127.0.0.1" "$c" unix "$sock"
wait "$unix_pid"
assert_eq "$(out reply)" ping "Unix socket echo"
assert_eq "$(recv "$before" | jq length)" 0 "connections through the receiver"

check "TLS to a listed host is connected as asked and noted; ROAR_S3_TLS=1 routes it flagged TLS"
before=$(recv_lines)
traced "https://localhost:$MOTO_PORT" "$c" name localhost "$MOTO_PORT" block
assert_contains "$(out status)" "HTTP/1.1" "direct response"
assert_eq "$(recv "$before" | jq length)" 0 "connections through the receiver"
assert_eq "$(notes)" "S3 over TLS to localhost not observed: enable proxy.intercept_tls" "note"
assert_eq "$(jq -r 'select(.op == "note") | .flags' "$EV")" 1 "the note is flagged as about the network"
ROAR_S3_TLS=1 traced "https://localhost:$MOTO_PORT" "$c" name localhost "$MOTO_PORT" block
conns=$(recv "$before")
assert_eq "$(jq length <<<"$conns")" 1 "connections through the receiver"
assert_eq "$(jq -r '.[0].flags' <<<"$conns")" 1 "TLS flag"
assert_eq "$(notes | wc -l)" 0 "no note"
echo ok
