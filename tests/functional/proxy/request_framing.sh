# Request framing the proxy refuses (issue 10 items 7 and 9): a transfer
# coding other than one "chunked", Content-Length together with
# Transfer-Encoding, a non-numeric Content-Length and more than 100 header
# fields are answered 400 / 431 and the connection is closed, before
# anything reaches the upstream.
source "$(dirname "$0")/lib_s3.sh"
port=$(free_port)
bg_start upstream python3 "$(dirname "$0")/fake_upstream.py" record "$port" "$TEST_TMP/bodies.jsonl"
wait_port "$port" 10 || fail "fake upstream did not start"
export AWS_ACCESS_KEY_ID=AKIAROARFRAMING AWS_SECRET_ACCESS_KEY=framing-secret
start_proxy "http://127.0.0.1:$port"

# raw REQUEST_TEXT: sends it (\r\n escapes allowed) and prints "STATUS closed|open".
raw() {
  python3 - "$PROXY_PORT" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
data, closed = b"", False
try:
    while True:
        b = s.recv(65536)
        if not b:
            closed = True
            break
        data += b
except socket.timeout:
    pass
status = data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/1.1 ") else "none"
print(status, "closed" if closed else "open")
PY
}

put='PUT /b/k HTTP/1.1\r\nHost: 127.0.0.1\r\n'
check "Transfer-Encoding: chunked, identity is 400 and closes"
assert_eq "$(raw "${put}Transfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n")" "400 closed" "answer"

check "Transfer-Encoding: identity is 400 and closes"
assert_eq "$(raw "${put}Transfer-Encoding: identity\r\n\r\nhello")" "400 closed" "answer"

check "Content-Length with Transfer-Encoding is 400 and closes"
assert_eq "$(raw "${put}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")" \
  "400 closed" "answer"

check "a non-numeric Content-Length is 400 and closes"
assert_eq "$(raw "${put}Content-Length: abc\r\n\r\nhello")" "400 closed" "answer"

check "more than 100 header fields is 431 and closes"
fields=$(for i in $(seq 1 150); do printf 'X-Many-%d: v\\r\\n' "$i"; done)
assert_eq "$(raw "GET /b/k HTTP/1.1\r\nHost: 127.0.0.1\r\n${fields}\r\n")" "431 closed" "answer"

check "pipelined requests are answered in order on one connection"
got=$(python3 - "$PROXY_PORT" <<'PY'
import re, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"GET /_roar/health HTTP/1.1\r\nHost: x\r\n\r\n" * 3
          + b"GET /_roar/nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
print(" ".join(m.decode() for m in re.findall(rb"HTTP/1\.1 (\d{3}) ", data)))
PY
)
assert_eq "$got" "200 200 200 404" "statuses of four pipelined requests"

check "nothing reached the upstream"
[[ ! -s "$TEST_TMP/bodies.jsonl" ]] || fail "the upstream saw: $(cat "$TEST_TMP/bodies.jsonl")"
assert_eq "$(metric 'roar_proxy_requests_total{operation="rejected",status="400"}')" 4 "rejected with 400"
assert_eq "$(curl -fsS "$PROXY_URL/_roar/health")" ok "health afterwards"
stop_proxy
