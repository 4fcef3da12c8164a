# Callers without the proxy's secret are refused with S3 XML errors and
# nothing reaches the upstream: wrong secret -> 403 SignatureDoesNotMatch,
# unknown key -> 403 InvalidAccessKeyId, unsigned -> 403 AccessDenied. The
# upstream here is a listener that records every connection it gets.
source "$(dirname "$0")/lib_s3.sh"
port=$(free_port)
bg_start listener python3 -u -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    print("CONNECTION", flush=True)
    c.close()
' "$port"
wait_port "$port" 10 || fail "listener did not start"
sleep 0.2
probes=$(grep -c CONNECTION "$TEST_TMP/listener.log" || true) # wait_port's own probe
export AWS_ACCESS_KEY_ID=AKIAROARTEST AWS_SECRET_ACCESS_KEY=the-real-secret
start_proxy "http://127.0.0.1:$port"

code() { # ACCESS_KEY SECRET -> prints HTTP status and body of a signed GET
  curl -sS -o "$TEST_TMP/body.xml" -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:s3" --user "$1:$2" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$PROXY_URL/bucket/key"
}
assert_eq "$(code AKIAROARTEST wrong-secret)" 403 "wrong secret status"
assert_contains "$(cat "$TEST_TMP/body.xml")" "<Code>SignatureDoesNotMatch</Code>" "wrong secret error"
assert_contains "$(cat "$TEST_TMP/body.xml")" "<RequestId>" "error request id"
assert_eq "$(code AKIAOTHERUSER the-real-secret)" 403 "wrong key status"
assert_contains "$(cat "$TEST_TMP/body.xml")" "<Code>InvalidAccessKeyId</Code>" "wrong key error"
assert_eq "$(curl -sS -o "$TEST_TMP/body.xml" -w '%{http_code}' "$PROXY_URL/bucket/key")" 403 "anonymous status"
assert_contains "$(cat "$TEST_TMP/body.xml")" "<Code>AccessDenied</Code>" "anonymous error"
# A PUT with a body and a wrong signature: refused before the body is read.
head -c 100000 /dev/urandom >"$TEST_TMP/payload"
status=$(curl -sS -o "$TEST_TMP/body.xml" -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:s3" \
  --user AKIAROARTEST:nope -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -T "$TEST_TMP/payload" "$PROXY_URL/bucket/k2")
assert_eq "$status" 403 "PUT with wrong secret"
# boto3 sees the error code too.
python3 - "$PROXY_URL" <<'PY'
import sys, boto3, botocore
s3 = boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id="AKIAROARTEST", aws_secret_access_key="guess")
try:
    s3.list_objects_v2(Bucket="bucket")
    raise SystemExit("listing with a wrong secret succeeded")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "SignatureDoesNotMatch", e.response
PY
assert_eq "$(metric roar_proxy_upstream_requests_total)" 0 "upstream requests"
assert_eq "$(metric roar_proxy_auth_failures_total)" 5 "auth failures"
assert_eq "$(grep -c CONNECTION "$TEST_TMP/listener.log" || true)" "$probes" "upstream connections"
assert_not_contains "$(cat "$TEST_TMP/proxy.log")" "the-real-secret" "proxy log"
# The correct secret does reach the upstream (which hangs up: 502).
assert_eq "$(code AKIAROARTEST the-real-secret)" 502 "correct secret, broken upstream"
sleep 0.2
(($(grep -c CONNECTION "$TEST_TMP/listener.log") > probes)) || fail "the correctly signed request never reached the upstream"
stop_proxy
