# Signed aws-chunked uploads (STREAMING-AWS4-HMAC-SHA256-PAYLOAD): the
# proxy checks every chunk signature, forwards the decoded bytes with the
# decoded Content-Length (s3rver stores what it receives verbatim, so the
# stored file proves no framing got through), and refuses a tampered chunk
# with 403 without completing the object upstream.
source "$(dirname "$0")/lib_s3.sh"
client=$(dirname "$0")/signed_chunks_client.py
start_s3rver signed
start_proxy "$S3RVER_URL"
head -c $((300 * 1024 + 7)) /dev/urandom >"$TEST_TMP/data.bin"
out=$(python3 "$client" "$PROXY_URL" signed ok.bin "$TEST_TMP/data.bin" 65536)
assert_eq "$(head -n1 <<<"$out")" 200 "signed-chunk upload status: $out"
curl -fsS -o "$TEST_TMP/back.bin" --aws-sigv4 "aws:amz:us-east-1:s3" --user S3RVER:S3RVER \
  -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$PROXY_URL/signed/ok.bin"
cmp "$TEST_TMP/back.bin" "$TEST_TMP/data.bin" || fail "object differs from the decoded payload"

out=$(python3 "$client" "$PROXY_URL" signed tampered.bin "$TEST_TMP/data.bin" 65536 tamper)
assert_eq "$(head -n1 <<<"$out")" 403 "tampered chunk status"
assert_contains "$out" "SignatureDoesNotMatch" "tampered chunk error"
# The tampered chunk (the second) never left the proxy: the upstream got at
# most the verified first chunk and then a cut connection. (s3rver keeps
# such truncated uploads; S3 and moto discard them, checked below.)
stored=$S3RVER_DIR/signed/tampered.bin._S3rver_object
if [[ -f "$stored" ]]; then
  size=$(stat -c %s "$stored")
  ((size <= 65536)) || fail "upstream received $size bytes of a body whose second chunk was tampered"
  cmp -n "$size" "$stored" "$TEST_TMP/data.bin" || fail "upstream received unverified bytes"
fi
assert_eq "$(metric roar_proxy_aws_chunked_requests_total)" 2 "aws-chunked bodies"
stop_proxy

# moto checks the re-signed request of a decoded signed-chunk upload too.
start_moto
start_proxy "$MOTO_URL"
AWS_ENDPOINT_URL_S3=$PROXY_URL aws s3 mb s3://signed-moto >/dev/null
out=$(python3 "$client" "$PROXY_URL" signed-moto ok.bin "$TEST_TMP/data.bin" 8192)
assert_eq "$(head -n1 <<<"$out")" 200 "signed-chunk upload to moto: $out"
AWS_ENDPOINT_URL_S3=$PROXY_URL aws s3 cp --only-show-errors s3://signed-moto/ok.bin "$TEST_TMP/back2.bin"
cmp "$TEST_TMP/back2.bin" "$TEST_TMP/data.bin" || fail "moto object differs"
out=$(python3 "$client" "$PROXY_URL" signed-moto bad.bin "$TEST_TMP/data.bin" 8192 tamper)
assert_eq "$(head -n1 <<<"$out")" 403 "tampered chunk status (moto)"
if AWS_ENDPOINT_URL_S3=$PROXY_URL aws s3api head-object --bucket signed-moto --key bad.bin >/dev/null 2>&1; then
  fail "a tampered signed-chunk upload was stored by moto"
fi
stop_proxy
