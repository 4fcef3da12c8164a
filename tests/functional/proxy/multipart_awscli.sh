# A >64 MiB multipart upload by `aws s3 cp` through roar-proxy to
# moto_server (SigV4 checked): the image's aws CLI v1 (AWS_ENDPOINT_URL_S3)
# and Debian's aws CLI v2 (--endpoint-url). Downloads compare byte-exact and
# the object's ETag is a multipart one ("-N").
source "$(dirname "$0")/lib_s3.sh"
start_moto
start_proxy "$MOTO_URL"
need b3sum
head -c $((70 * 1024 * 1024)) /dev/urandom >"$TEST_TMP/big.bin"
want=$(b3 "$TEST_TMP/big.bin")

AWS_ENDPOINT_URL_S3=$PROXY_URL aws s3 mb s3://mpu >/dev/null
AWS_ENDPOINT_URL_S3=$PROXY_URL aws s3 cp --only-show-errors "$TEST_TMP/big.bin" s3://mpu/v1/big.bin
AWS_ENDPOINT_URL_S3=$PROXY_URL aws s3 cp --only-show-errors s3://mpu/v1/big.bin "$TEST_TMP/back-v1.bin"
assert_eq "$(b3 "$TEST_TMP/back-v1.bin")" "$want" "CLI v1 download"
etag=$(AWS_ENDPOINT_URL_S3=$PROXY_URL aws s3api head-object --bucket mpu --key v1/big.bin --query ETag --output text)
[[ "$etag" =~ -[0-9]+\"?$ ]] || fail "CLI v1 upload was not multipart (ETag $etag)"

if [[ -x /usr/bin/aws ]]; then
  /usr/bin/aws --endpoint-url "$PROXY_URL" s3 cp --only-show-errors "$TEST_TMP/big.bin" s3://mpu/v2/big.bin
  /usr/bin/aws --endpoint-url "$PROXY_URL" s3 cp --only-show-errors s3://mpu/v2/big.bin "$TEST_TMP/back-v2.bin"
  assert_eq "$(b3 "$TEST_TMP/back-v2.bin")" "$want" "CLI v2 download"
  etag2=$(/usr/bin/aws --endpoint-url "$PROXY_URL" s3api head-object --bucket mpu --key v2/big.bin --query ETag --output text)
  [[ "$etag2" =~ -[0-9]+\"?$ ]] || fail "CLI v2 upload was not multipart (ETag $etag2)"
fi
parts=$(metric 'roar_proxy_requests_total{operation="upload_part",status="200"}')
((parts >= 8)) || fail "expected at least 8 UploadPart calls, saw $parts"
assert_eq "$(metric 'roar_proxy_requests_total{operation="complete_multipart_upload",status="200"}')" \
  "$([[ -x /usr/bin/aws ]] && echo 2 || echo 1)" "CompleteMultipartUpload count"
stop_proxy
