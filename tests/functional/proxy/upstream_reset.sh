# A request body the proxy stops relaying part-way (the client vanished, a
# chunk signature failed) must end the upstream connection with a reset,
# never with a clean close after fewer bytes than declared: an upstream that
# does not enforce Content-Length would store that truncated object.
# fake_upstream.py (record mode) logs how each request body ended.
source "$(dirname "$0")/lib_s3.sh"
port=$(free_port)
bg_start upstream python3 "$(dirname "$0")/fake_upstream.py" record "$port" "$TEST_TMP/bodies.jsonl"
wait_port "$port" 10 || fail "fake upstream did not start"
export AWS_ACCESS_KEY_ID=AKIAROARRESET AWS_SECRET_ACCESS_KEY=reset-secret
start_proxy "http://127.0.0.1:$port"

# ends: the "end" of every logged request body, space-separated.
ends() { jq -r .end "$TEST_TMP/bodies.jsonl" 2>/dev/null | tr '\n' ' ' | sed 's/ $//'; }
wait_lines() { # wait_lines N: until the upstream logged N bodies (10 s)
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -f "$TEST_TMP/bodies.jsonl" ]] && (($(wc -l <"$TEST_TMP/bodies.jsonl") >= $1)) && return 0
    sleep 0.1
  done
  fail "the upstream logged $(wc -l <"$TEST_TMP/bodies.jsonl" 2>/dev/null || echo 0) bodies, expected $1"
}

check "a complete body reaches the upstream complete (control)"
head -c 300000 /dev/urandom >"$TEST_TMP/small.bin"
curl -fsS --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
  -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -T "$TEST_TMP/small.bin" -o /dev/null "$PROXY_URL/b/ok.bin"
wait_lines 1
assert_eq "$(ends)" "complete" "control upload"

check "a client that vanishes mid-body resets the upstream connection"
python3 - "$PROXY_PORT" <<'PY'
import socket, sys, time
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
port = int(sys.argv[1])
declared = 4 * 1024 * 1024
req = AWSRequest(method="PUT", url=f"http://127.0.0.1:{port}/b/vanish.bin",
                 headers={"Host": f"127.0.0.1:{port}", "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
                          "Content-Length": str(declared)})
S3SigV4Auth(Credentials("AKIAROARRESET", "reset-secret"), "s3", "us-east-1").add_auth(req)
head = f"PUT /b/vanish.bin HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in req.headers.items()) + "\r\n"
s = socket.create_connection(("127.0.0.1", port))
s.sendall(head.encode() + b"x" * (1024 * 1024))
time.sleep(0.5)
s.close()
PY
wait_lines 2
assert_eq "$(ends)" "complete reset" "body ends after the client vanished"
received=$(jq -s '.[1].received' "$TEST_TMP/bodies.jsonl")
((received < 4 * 1024 * 1024)) || fail "the upstream received all $received declared bytes"

check "a bad chunk signature resets the upstream connection"
out=$(python3 "$(dirname "$0")/signed_chunks_client.py" "$PROXY_URL" b tampered.bin "$TEST_TMP/small.bin" 65536 tamper)
assert_eq "$(head -n1 <<<"$out")" 403 "tampered chunk status"
wait_lines 3
assert_eq "$(ends)" "complete reset reset" "body ends after a bad chunk signature"
received=$(jq -s '.[2].received' "$TEST_TMP/bodies.jsonl")
((received <= 65536)) || fail "the upstream received $received bytes, more than the verified first chunk"
assert_eq "$(curl -fsS "$PROXY_URL/_roar/health")" ok "health afterwards"
stop_proxy
