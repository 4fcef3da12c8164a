# An unsigned CORS preflight (OPTIONS with Origin and
# Access-Control-Request-Method; browsers never sign it) is forwarded
# without a signature and the upstream's answer comes back as it would
# direct (s3rver with a CORS configuration). Other unsigned requests,
# OPTIONS without Origin included, are still refused by the proxy.
source "$(dirname "$0")/lib_s3.sh"
cat >"$TEST_TMP/cors.xml" <<'XML'
<CORSConfiguration>
  <CORSRule>
    <AllowedOrigin>http://app.example</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
  </CORSRule>
</CORSConfiguration>
XML
start_s3rver "cors=$TEST_TMP/cors.xml"
start_proxy "$S3RVER_URL"

# preflight BASE_URL METHOD: status and the CORS response headers, one per line.
preflight() {
  curl -sS -o /dev/null -D "$TEST_TMP/h" -w '%{http_code}\n' -X OPTIONS "$1/cors/some/key.txt" \
    -H 'Origin: http://app.example' -H "Access-Control-Request-Method: $2" \
    -H 'Access-Control-Request-Headers: content-type, x-amz-meta-a'
  { grep -i '^access-control-allow' "$TEST_TMP/h" || true; } | tr -d '\r' | sort
}

check "an allowed preflight is answered by the upstream through the proxy, as direct"
direct=$(preflight "$S3RVER_URL" PUT)
via=$(preflight "$PROXY_URL" PUT)
assert_contains "$direct" "200" "direct preflight"
assert_contains "$direct" "Access-Control-Allow-Origin: *" "direct preflight"
assert_eq "$via" "$direct" "preflight through the proxy"

check "a preflight the upstream's CORS rules refuse gets the upstream's refusal"
direct=$(preflight "$S3RVER_URL" DELETE)
via=$(preflight "$PROXY_URL" DELETE)
assert_contains "$direct" "403" "direct refused preflight"
assert_eq "$via" "$direct" "refused preflight through the proxy"

check "unsigned OPTIONS without Origin, and unsigned GETs, are refused by the proxy itself"
status=$(curl -sS -o "$TEST_TMP/err.xml" -w '%{http_code}' -X OPTIONS "$PROXY_URL/cors/some/key.txt" \
  -H 'Access-Control-Request-Method: PUT')
assert_eq "$status" 403 "OPTIONS without Origin"
assert_contains "$(cat "$TEST_TMP/err.xml")" "Anonymous requests are refused" "OPTIONS without Origin"
status=$(curl -sS -o /dev/null -w '%{http_code}' "$PROXY_URL/cors/some/key.txt" -H 'Origin: http://app.example')
assert_eq "$status" 403 "unsigned GET"
stop_proxy
