# Large whole-object GETs take the pipelined path (the hashing thread writes
# each 256 KiB block to the client): against a scripted upstream, the client
# gets exactly the object's bytes and the ring event carries their BLAKE3
# whether the upstream sends a Content-Length, chunked encoding, or trickles
# (pieces 40 ms apart: the 20 ms partial flush); an upstream that dies
# mid-body gives the client a truncated response (not a hang); a client
# that hangs up mid-body is counted and the proxy keeps serving. Both cut
# downloads are events of partial reads: the object's size, no BLAKE3.
source "$(dirname "$0")/lib_s3.sh"
need b3sum
[[ -x "$RING_TOOL" ]] || fail "ring tool not built at $RING_TOOL"
export AWS_ACCESS_KEY_ID=AKIAROARTEST AWS_SECRET_ACCESS_KEY=secret
size=$((24 * 1024 * 1024 + 12345)) # not a multiple of the block
python3 -c "import random,sys; sys.stdout.buffer.write(random.Random(7).randbytes($size))" >"$TEST_TMP/obj.bin"
want_b3=$(b3 "$TEST_TMP/obj.bin")

up=$(free_port)
# (A file, not stdin: a background job's stdin is /dev/null.)
cat >"$TEST_TMP/upstream.py" <<'PY'
import http.server, socketserver, sys, time
data = open(sys.argv[2], "rb").read()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        key = self.path.rsplit("/", 1)[-1]
        self.send_response(200)
        self.send_header("ETag", '"e-' + key + '"')
        if key == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(data), 1000003):
                piece = data[i:i + 1000003]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
            return
        body = data if key != "slow" else data[:700 * 1024]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if key == "slow":
            for i in range(0, len(body), 100 * 1024):
                self.wfile.write(body[i:i + 100 * 1024]); self.wfile.flush(); time.sleep(0.04)
        elif key == "cut":
            self.wfile.write(body[:len(body) // 3]); self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
        else:
            self.wfile.write(body)
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
bg_start upstream python3 "$TEST_TMP/upstream.py" "$up" "$TEST_TMP/obj.bin"
wait_port "$up" 10 || fail "scripted upstream did not start"
ring=/roar-proxytest-$$-$RANDOM
"$RING_TOOL" create "$ring" 256
on_exit "'$RING_TOOL' remove '$ring'"
start_proxy "http://127.0.0.1:$up" --ring "$ring"
sig=(--aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"
  -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")

for key in length chunked; do
  curl -fsS "${sig[@]}" -o "$TEST_TMP/got-$key.bin" "$PROXY_URL/b/$key"
  cmp "$TEST_TMP/got-$key.bin" "$TEST_TMP/obj.bin" || fail "GET $key: bytes differ"
done
curl -fsS "${sig[@]}" -o "$TEST_TMP/got-slow.bin" "$PROXY_URL/b/slow"
head -c $((700 * 1024)) "$TEST_TMP/obj.bin" | cmp - "$TEST_TMP/got-slow.bin" || fail "GET slow: bytes differ"
slow_b3=$(b3 "$TEST_TMP/got-slow.bin")

# Upstream dies after a third of the body: a short body and an error, fast.
rc=0
timeout 20 curl -sS "${sig[@]}" -o "$TEST_TMP/got-cut.bin" "$PROXY_URL/b/cut" 2>"$TEST_TMP/cut.err" || rc=$?
((rc != 124)) || fail "GET of a body the upstream cut short hung"
((rc != 0)) || fail "GET of a body the upstream cut short succeeded"
got=$(stat -c %s "$TEST_TMP/got-cut.bin")
((got < size)) || fail "cut GET returned $got bytes"
cmp -n "$got" "$TEST_TMP/got-cut.bin" "$TEST_TMP/obj.bin" || fail "cut GET: the bytes it did get differ"

# A client that reads 1 MiB and hangs up.
python3 - "$PROXY_PORT" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" <<'PY'
import socket, sys, botocore.auth, botocore.awsrequest, botocore.credentials
port, key, secret = sys.argv[1:]
req = botocore.awsrequest.AWSRequest(method="GET", url=f"http://127.0.0.1:{port}/b/length",
                                     headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
botocore.auth.S3SigV4Auth(botocore.credentials.Credentials(key, secret), "s3", "us-east-1").add_auth(req)
head = f"GET /b/length HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n" + \
    "".join(f"{k}: {v}\r\n" for k, v in req.headers.items()) + "\r\n"
s = socket.create_connection(("127.0.0.1", int(port)))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.sendall(head.encode())
got = 0
while got < 1 << 20:
    b = s.recv(65536)
    assert b, f"connection closed after {got} bytes"
    if got == 0:
        assert b.startswith(b"HTTP/1.1 200"), b[:100]
    got += len(b)
s.close()
PY
for ((i = 0; i < 50; i++)); do
  (($(metric roar_proxy_client_aborts_total) >= 1)) && break
  sleep 0.1
done
assert_eq "$(metric roar_proxy_client_aborts_total)" 1 "client aborts after a hang-up mid-GET"
assert_eq "$(metric roar_proxy_inflight_requests)" 1 "in-flight requests (just this scrape)"
curl -fsS "${sig[@]}" -o "$TEST_TMP/got-after.bin" "$PROXY_URL/b/length"
cmp "$TEST_TMP/got-after.bin" "$TEST_TMP/obj.bin" || fail "GET after a hang-up: bytes differ"

stop_proxy
"$RING_TOOL" dump "$ring" >"$TEST_TMP/events.jsonl"
python3 - "$TEST_TMP/events.jsonl" "$size" "$want_b3" "$slow_b3" <<'PY'
import json, sys
path, size, want, slow = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
evs = [json.loads(l) for l in open(path)]
def extra(e):
    return dict(l.split("=", 1) for l in e["extra"].splitlines() if l)
# A cut event's bytes are what the proxy relayed before the cut: not fixed.
got = [(e["uri"], None if "cut" in extra(e) else e["bytes"], extra(e).get("blake3"), extra(e).get("cut"),
        extra(e).get("size")) for e in evs]
assert got == [("s3://b/length", size, want, None, None), ("s3://b/chunked", size, want, None, None),
               ("s3://b/slow", 700 * 1024, slow, None, None), ("s3://b/cut", None, None, "1", str(size)),
               ("s3://b/length", None, None, "1", str(size)), ("s3://b/length", size, want, None, None)], got
print("events ok:", len(evs))
PY
