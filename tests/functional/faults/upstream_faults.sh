# An upstream that resets, stalls or answers garbage: the client gets an
# S3 error (5xx with an XML body) for that request, or a response that is
# visibly cut short, never a hang and never a body presented as whole; the
# proxy keeps answering health and other requests meanwhile, serves the
# next request, and publishes no ring event for what failed, except a
# download whose head the client had: a partial read (its ETag and size,
# no BLAKE3). (Conflicting Content-Length headers are upstream_malformed.sh.)
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
good_gets=0

# request METHOD KEY [CURL ARGS...]: sets STATUS, RC (curl's exit; 28 is its
# own 60 s limit, only there to turn a hang into a failure) and BODY.
request() {
  local method=$1 key=$2
  shift 2
  RC=0
  STATUS=$(curl -sS -X "$method" --max-time 60 -o "$TEST_TMP/body" -w '%{http_code}' "${sig[@]}" "$@" \
    "$PROXY_URL/b/$key" 2>"$TEST_TMP/curl.err") || RC=$?
  BODY=$(head -c 2000 "$TEST_TMP/body" 2>/dev/null || true)
  ((RC != 28)) || fail "$method $key: no answer within 60 s"
}

# serves_next WHAT: health answers and a good GET returns the object.
serves_next() {
  assert_eq "$(curl -fsS --max-time 20 "$PROXY_URL/_roar/health")" ok "$1: health"
  request GET ok
  assert_eq "$RC/$STATUS/$BODY" "0/200/hello" "$1: the next GET"
  good_gets=$((good_gets + 1))
}

serves_next "before any fault"

for key in reset garbage bad-length; do
  for method in GET PUT; do
    check "an upstream that answers $key to a $method gives the client a 5xx S3 error, then the proxy serves the next request"
    args=()
    [[ $method == PUT ]] && args=(-H "Content-Type: application/octet-stream" --data-binary "payload")
    request "$method" "$key" "${args[@]}"
    [[ $STATUS == 5?? ]] || fail "$method $key: status $STATUS (curl exit $RC), body: $BODY"
    assert_contains "$BODY" "<Code>" "$method $key: an S3 XML error"
    serves_next "after $method $key"
  done
done

check "an upstream that resets mid-body gives the client a response cut short with an error"
request GET reset-mid-body
((RC != 0)) || fail "GET reset-mid-body: curl saw a complete response (status $STATUS)"
size=$(stat -c %s "$TEST_TMP/body" 2>/dev/null || echo 0)
((size < 1048576)) || fail "GET reset-mid-body: the client got all $size bytes"
serves_next "after a reset mid-body"

check "while an upstream stalls (before answering and mid-body), health and other requests are served"
curl -sS --max-time 120 "${sig[@]}" -o /dev/null "$PROXY_URL/b/stall" 2>/dev/null &
stalled1=$!
curl -sS --max-time 120 "${sig[@]}" -o /dev/null "$PROXY_URL/b/stall-mid-body" 2>/dev/null &
stalled2=$!
on_exit "kill $stalled1 $stalled2 2>/dev/null"
sleep 1
serves_next "during two stalls"
request PUT ok --data-binary "payload"
assert_eq "$RC/$STATUS" "0/200" "a PUT during two stalls"

check "clients that give up on a stalled upstream leave the proxy serving"
kill "$stalled1" "$stalled2" 2>/dev/null || true
wait "$stalled1" "$stalled2" 2>/dev/null || true
serves_next "after the stalled clients left"

check "no ring event was published for a failed request, but downloads cut mid-body are partial reads"
stop_proxy
"$RING_TOOL" dump "$ring" >"$TEST_TMP/events.jsonl"
uris=$(jq -r '.uri' "$TEST_TMP/events.jsonl" | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')
assert_eq "$uris" "s3://b/ok=$((good_gets + 1)) s3://b/reset-mid-body=1 s3://b/stall-mid-body=1 " \
  "events (the good GETs, the one good PUT, and the two downloads cut mid-body)"
for key in reset-mid-body stall-mid-body; do
  assert_eq "$(jq -c --arg u "s3://b/$key" 'select(.uri == $u) | [.op, .etag, .extra]' "$TEST_TMP/events.jsonl")" \
    '[64,"\"m\"","size=1048576\ncut=1\n"]' "the $key download's event"
done
echo ok
