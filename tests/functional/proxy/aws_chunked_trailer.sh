# Unsigned-trailer aws-chunked uploads (STREAMING-UNSIGNED-PAYLOAD-TRAILER)
# with each supported trailing checksum: a matching one stores the decoded
# bytes; a wrong one is 400 BadDigest and a body without its terminal
# zero-length chunk 400 IncompleteBody, and in both cases the upstream never
# receives the whole declared length (s3rver keeps what it got; moto, which
# enforces Content-Length, stores nothing).
source "$(dirname "$0")/lib_s3.sh"
client=$(dirname "$0")/trailer_checksum_client.py
start_s3rver trailer
start_proxy "$S3RVER_URL"
head -c $((200 * 1024 + 3)) /dev/urandom >"$TEST_TMP/data.bin"
size=$(stat -c %s "$TEST_TMP/data.bin")

# stored_size KEY: bytes s3rver stored for KEY (0 when nothing).
stored_size() {
  local f=$S3RVER_DIR/trailer/$1._S3rver_object
  if [[ -f $f ]]; then stat -c %s "$f"; else echo 0; fi
}

for algorithm in crc32 crc32c sha1 sha256; do
  check "a matching x-amz-checksum-$algorithm trailer stores the decoded bytes"
  out=$("$PYTHON" "$client" "$PROXY_URL" trailer "ok-$algorithm.bin" "$TEST_TMP/data.bin" "$algorithm")
  assert_eq "$(head -n1 <<<"$out")" 200 "upload with a $algorithm trailer: $out"
  cmp "$S3RVER_DIR/trailer/ok-$algorithm.bin._S3rver_object" "$TEST_TMP/data.bin" ||
    fail "stored object differs from the decoded payload ($algorithm)"
done

check "a wrong trailing checksum is 400 BadDigest and never completes upstream"
out=$("$PYTHON" "$client" "$PROXY_URL" trailer bad.bin "$TEST_TMP/data.bin" crc32c corrupt)
assert_eq "$(head -n1 <<<"$out")" 400 "wrong checksum status: $out"
assert_contains "$out" "<Code>BadDigest</Code>" "wrong checksum error"
got=$(stored_size bad.bin)
((got < size)) || fail "upstream received all $size bytes of an upload with a wrong checksum"

check "a body without its terminal chunk is 400 IncompleteBody and never completes upstream"
out=$("$PYTHON" "$client" "$PROXY_URL" trailer cut.bin "$TEST_TMP/data.bin" crc32 no-terminal)
assert_eq "$(head -n1 <<<"$out")" 400 "missing terminal chunk status: $out"
assert_contains "$out" "<Code>IncompleteBody</Code>" "missing terminal chunk error"
got=$(stored_size cut.bin)
((got < size)) || fail "upstream received all $size bytes of a body without its terminal chunk"
stop_proxy

check "moto (which checks the re-signed request) stores a verified upload and nothing of a refused one"
start_moto
start_proxy "$MOTO_URL"
AWS_ENDPOINT_URL_S3=$PROXY_URL aws s3 mb s3://trailer-moto >/dev/null
out=$("$PYTHON" "$client" "$PROXY_URL" trailer-moto ok.bin "$TEST_TMP/data.bin" sha256)
assert_eq "$(head -n1 <<<"$out")" 200 "upload to moto: $out"
AWS_ENDPOINT_URL_S3=$PROXY_URL aws s3 cp --only-show-errors s3://trailer-moto/ok.bin "$TEST_TMP/back.bin"
cmp "$TEST_TMP/back.bin" "$TEST_TMP/data.bin" || fail "moto object differs"
out=$("$PYTHON" "$client" "$PROXY_URL" trailer-moto bad.bin "$TEST_TMP/data.bin" sha256 corrupt)
assert_eq "$(head -n1 <<<"$out")" 400 "wrong checksum to moto: $out"
if AWS_ENDPOINT_URL_S3=$PROXY_URL aws s3api head-object --bucket trailer-moto --key bad.bin >/dev/null 2>&1; then
  fail "an upload with a wrong trailing checksum was stored by moto"
fi
stop_proxy
