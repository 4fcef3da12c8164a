# @aws-sdk/client-s3 (JS SDK v3) streams bodies as aws-chunked with
# STREAMING-UNSIGNED-PAYLOAD-TRAILER even over http://. The proxy must
# decode it and forward only the payload: s3rver stores whatever it gets
# verbatim, so the stored object (and moto, which checks the re-signed
# request) must hold exactly the original bytes.
source "$(dirname "$0")/lib_s3.sh"
need node
[[ -d "$NODE_DIR/node_modules/@aws-sdk/client-s3" ]] || skip "@aws-sdk/client-s3 not installed (tests/functional/node/install.sh)"
head -c $((5 * 1024 * 1024 + 333)) /dev/urandom >"$TEST_TMP/payload.bin"

start_s3rver chunky
start_proxy "$S3RVER_URL" --verbose
node "$NODE_DIR/s3_put_get.mjs" "$PROXY_URL" "$TEST_TMP/payload.bin" chunky >"$TEST_TMP/etag"
cmp "$TEST_TMP/payload.bin.back" "$TEST_TMP/payload.bin" || fail "s3rver round trip differs"
stored=$(find "$S3RVER_DIR/chunky" -type f -name '*_S3rver_object' | head -n1)
[[ -n "$stored" ]] || stored=$(find "$S3RVER_DIR/chunky" -type f ! -name '*.json' ! -name '*metadata*' | head -n1)
cmp "$stored" "$TEST_TMP/payload.bin" || fail "s3rver stored other bytes than the payload (aws-chunked framing?)"
assert_contains "$(cat "$TEST_TMP/proxy.log")" "put_object) -> 200" "proxy log"
assert_eq "$(metric roar_proxy_aws_chunked_requests_total)" 1 "aws-chunked bodies decoded"
stop_proxy

start_moto
start_proxy "$MOTO_URL"
node "$NODE_DIR/s3_put_get.mjs" "$PROXY_URL" "$TEST_TMP/payload.bin" chunky-moto create >"$TEST_TMP/etag2"
cmp "$TEST_TMP/payload.bin.back" "$TEST_TMP/payload.bin" || fail "moto round trip differs"
assert_eq "$(cat "$TEST_TMP/etag2")" "\"$(md5sum <"$TEST_TMP/payload.bin" | cut -d' ' -f1)\"" "moto ETag (MD5 of payload)"
stop_proxy
