# Malformed values from the upstream answer an error on that request (or
# are kept as sent) and never end the proxy (issue 10 item 11): an ETag
# that is a broken XML character reference, a non-numeric Content-Length,
# a garbage status line. fake_upstream.py plays the broken upstream.
source "$(dirname "$0")/lib_s3.sh"
[[ -x "$RING_TOOL" ]] || fail "ring tool not built at $RING_TOOL"
export AWS_ACCESS_KEY_ID=AKIAROARBROKEN AWS_SECRET_ACCESS_KEY=broken-secret
sig=(--aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"
  -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")

# with_upstream MODE: a fake upstream in MODE and a proxy in front of it.
with_upstream() {
  local port
  port=$(free_port)
  bg_start "upstream-$1" python3 "$(dirname "$0")/fake_upstream.py" "$1" "$port" /dev/null
  wait_port "$port" 10 || fail "fake upstream ($1) did not start"
  start_proxy "http://127.0.0.1:$port" "${@:2}"
}

check "an ETag '&#x;' in a CopyObject answer is relayed and recorded as sent"
ring=/roar-proxytest-$$-$RANDOM
"$RING_TOOL" create "$ring" 256
on_exit "'$RING_TOOL' remove '$ring'"
with_upstream bad-etag --ring "$ring"
status=$(curl -sS "${sig[@]}" -X PUT -H "x-amz-copy-source: /b/src" -o "$TEST_TMP/copy.xml" -w '%{http_code}' \
  "$PROXY_URL/b/dst")
assert_eq "$status" 200 "CopyObject status"
assert_contains "$(cat "$TEST_TMP/copy.xml")" "<ETag>&#x;</ETag>" "relayed body"
assert_eq "$(curl -fsS "$PROXY_URL/_roar/health")" ok "health after the broken ETag"
stop_proxy
"$RING_TOOL" dump "$ring" >"$TEST_TMP/events.jsonl" 2>/dev/null
assert_eq "$(jq -r 'select(.op == 67) | .etag' "$TEST_TMP/events.jsonl")" '&#x;' "recorded copy ETag"

check "a non-numeric Content-Length from the upstream is a 502 on that request"
with_upstream bad-length
status=$(curl -sS "${sig[@]}" -o "$TEST_TMP/err.xml" -w '%{http_code}' "$PROXY_URL/b/k" || true)
assert_eq "$status" 502 "GET status"
assert_contains "$(cat "$TEST_TMP/err.xml")" "<Code>BadGateway</Code>" "error code"
assert_eq "$(curl -fsS "$PROXY_URL/_roar/health")" ok "health after the bad Content-Length"
stop_proxy

check "a garbage status line from the upstream is a 502 on that request"
with_upstream bad-status
status=$(curl -sS "${sig[@]}" -o "$TEST_TMP/err2.xml" -w '%{http_code}' "$PROXY_URL/b/k" || true)
assert_eq "$status" 502 "GET status"
assert_eq "$(curl -fsS "$PROXY_URL/_roar/health")" ok "health after the bad status line"
stop_proxy
