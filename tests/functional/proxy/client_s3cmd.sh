# s3cmd (Debian 2.3) through the proxy to moto with SigV4 checking: mb,
# put (single and multipart), ls, get byte-exact, del.
source "$(dirname "$0")/lib_s3.sh"
need s3cmd
start_moto
start_proxy "$MOTO_URL"
host=127.0.0.1:$PROXY_PORT
s3c() {
  s3cmd --config /dev/null --access_key="$AWS_ACCESS_KEY_ID" --secret_key="$AWS_SECRET_ACCESS_KEY" \
    --host="$host" --host-bucket="$host" --no-ssl --region=us-east-1 --multipart-chunk-size-mb=5 \
    --no-progress "$@"
}
head -c 500000 /dev/urandom >"$TEST_TMP/small.bin"
head -c $((11 * 1024 * 1024)) /dev/urandom >"$TEST_TMP/big.bin"
s3c mb s3://s3cmd-bkt >/dev/null
s3c put "$TEST_TMP/small.bin" s3://s3cmd-bkt/a/small.bin >/dev/null
s3c put "$TEST_TMP/big.bin" s3://s3cmd-bkt/a/big.bin >/dev/null
listing=$(s3c ls --recursive s3://s3cmd-bkt) # no Delimiter: moto refuses an encoded '/' in queries
assert_contains "$listing" "s3://s3cmd-bkt/a/small.bin" "s3cmd ls"
assert_contains "$listing" "s3://s3cmd-bkt/a/big.bin" "s3cmd ls"
s3c get s3://s3cmd-bkt/a/small.bin "$TEST_TMP/small.back" >/dev/null
s3c get s3://s3cmd-bkt/a/big.bin "$TEST_TMP/big.back" >/dev/null
cmp "$TEST_TMP/small.back" "$TEST_TMP/small.bin" || fail "small differs"
cmp "$TEST_TMP/big.back" "$TEST_TMP/big.bin" || fail "big differs"
s3c del s3://s3cmd-bkt/a/small.bin >/dev/null
assert_not_contains "$(s3c ls --recursive s3://s3cmd-bkt)" "small.bin" "s3cmd ls after del"
((  $(metric 'roar_proxy_requests_total{operation="upload_part",status="200"}') >= 2 )) || fail "s3cmd did not use multipart"
stop_proxy
