# An upstream answer whose framing is ambiguous (two different
# Content-Length headers) is refused with a 5xx S3 error: it is never
# relayed as a 200 whose body the client cannot trust.
source "$(dirname "$0")/../proxy/lib_s3.sh"
need curl
export AWS_ACCESS_KEY_ID=AKIAROARTEST AWS_SECRET_ACCESS_KEY=secret
up=$(free_port)
bg_start upstream python3 "$ROAR_SOURCE_DIR/tests/functional/faults/broken_upstream.py" "$up" "$TEST_TMP/upstream-puts.log"
wait_port "$up" 10 || fail "the scripted upstream did not start"
start_proxy "http://127.0.0.1:$up"
sig=(--aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"
  -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")

for method in GET PUT; do
  check "two different Content-Length headers from the upstream give a $method a 5xx S3 error"
  rc=0
  args=()
  [[ $method == PUT ]] && args=(--data-binary payload)
  status=$(curl -sS -X "$method" --max-time 60 -o "$TEST_TMP/body" -w '%{http_code}' "${sig[@]}" "${args[@]}" \
    "$PROXY_URL/b/two-lengths" 2>/dev/null) || rc=$?
  [[ $status == 5?? ]] || fail "$method: status $status (curl exit $rc), body: $(head -c 300 "$TEST_TMP/body")"
  assert_contains "$(cat "$TEST_TMP/body")" "<Code>" "$method: an S3 XML error"
  assert_eq "$(curl -fsS --max-time 20 "$PROXY_URL/_roar/health")" ok "health after $method"
done
echo ok
