# Clients that disconnect mid-stream: half-way through the request head,
# half-way through an upload, half-way through a download. The proxy
# survives, frees the request, serves the next one, never lets the upstream
# finish an upload the client abandoned, publishes no ring event for a
# request that did not complete, and publishes the abandoned download as
# what it was: a partial read (its ETag and size, no BLAKE3).
source "$(dirname "$0")/../proxy/lib_s3.sh"
need curl
[[ -x "$RING_TOOL" ]] || fail "ring tool not built at $RING_TOOL"
export AWS_ACCESS_KEY_ID=AKIAROARTEST AWS_SECRET_ACCESS_KEY=secret
up=$(free_port)
bg_start upstream python3 "$ROAR_SOURCE_DIR/tests/functional/faults/broken_upstream.py" "$up" "$TEST_TMP/upstream-puts.log"
wait_port "$up" 10 || fail "the scripted upstream did not start"
ring=/roar-faulttest-$$-$RANDOM
"$RING_TOOL" create "$ring" 256
on_exit "'$RING_TOOL' remove '$ring'"
start_proxy "http://127.0.0.1:$up" --ring "$ring"
sig=(--aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"
  -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")
good=0

# serves_next WHAT: health answers, a GET and a PUT go through, and (once
# the abandoned request is gone) nothing but the scrape is in flight.
serves_next() {
  assert_eq "$(curl -fsS --max-time 20 "$PROXY_URL/_roar/health")" ok "$1: health"
  assert_eq "$(curl -fsS --max-time 20 "${sig[@]}" "$PROXY_URL/b/ok")" hello "$1: the next GET"
  curl -fsS --max-time 20 "${sig[@]}" --data-binary payload -X PUT -o /dev/null "$PROXY_URL/b/ok" ||
    fail "$1: the next PUT failed"
  good=$((good + 2))
  local i
  for ((i = 0; i < 100; i++)); do
    (($(metric roar_proxy_inflight_requests) == 1)) && return 0
    sleep 0.1
  done
  fail "$1: $(metric roar_proxy_inflight_requests) requests still in flight 10 s after the client left"
}

# abandon MODE: a signed request sent by hand that the client abandons:
#   head      half of the request head, then close
#   upload    a PUT declaring 8 MiB, 1 MiB of body, then close
#   download  a GET of 64 MiB, 1 MiB read, then close
abandon() {
  python3 - "$PROXY_PORT" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$1" <<'PY'
import socket, sys, time, botocore.auth, botocore.awsrequest, botocore.credentials
port, key, secret, mode = sys.argv[1:]
method, path, length = {"head": ("GET", "/b/ok", 0), "upload": ("PUT", "/b/abandoned", 8 << 20),
                        "download": ("GET", "/b/big", 0)}[mode]
headers = {"x-amz-content-sha256": "UNSIGNED-PAYLOAD"}
if length:
    headers["Content-Length"] = str(length)
req = botocore.awsrequest.AWSRequest(method=method, url=f"http://127.0.0.1:{port}{path}", headers=headers)
botocore.auth.S3SigV4Auth(botocore.credentials.Credentials(key, secret), "s3", "us-east-1").add_auth(req)
head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in req.headers.items()) + "\r\n").encode()
s = socket.create_connection(("127.0.0.1", int(port)))
if mode == "head":
    s.sendall(head[: len(head) // 2])
    time.sleep(0.3)
elif mode == "upload":
    s.sendall(head)
    for _ in range(16):
        s.sendall(b"u" * 65536)
    time.sleep(0.5)
else:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.sendall(head)
    got = 0
    while got < 1 << 20:
        b = s.recv(65536)
        assert b, f"the proxy closed the download after {got} bytes"
        if got == 0:
            assert b.startswith(b"HTTP/1.1 200"), b[:200]
        got += len(b)
s.close()
PY
}

serves_next "before any client left"
for mode in head upload download; do
  check "a client that leaves mid-$mode leaves the proxy serving, with nothing in flight"
  abandon "$mode"
  serves_next "after a client left mid-$mode"
done

check "an abandoned upload never completes upstream"
# (Never forwarding it at all would be fine too.)
if grep -q '^PUT abandoned [0-9]* complete$' "$TEST_TMP/upstream-puts.log"; then
  fail "the upstream received the abandoned PUT as a complete body: $(grep abandoned "$TEST_TMP/upstream-puts.log")"
fi

check "no ring event for the abandoned head and upload"
stop_proxy
"$RING_TOOL" dump "$ring" >"$TEST_TMP/events.jsonl"
uris=$(jq -r '.uri' "$TEST_TMP/events.jsonl" | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')
assert_eq "$uris" "s3://b/big=1 s3://b/ok=$good " "events (the completed GETs and PUTs, and the abandoned download)"

check "an abandoned download is published as a partial read, with its ETag and size and no BLAKE3"
assert_eq "$(jq -c 'select(.uri == "s3://b/big") | [.op, .etag, .extra]' "$TEST_TMP/events.jsonl")" \
  '[64,"\"big\"","size=67108864\ncut=1\n"]' "the download's event"
echo ok
