# rclone (Debian 1.60; single PUT with UNSIGNED-PAYLOAD, multipart above its
# cutoff) through the proxy (which verifies rclone's signatures) to s3rver:
# copy up, list, copy down byte-exact, delete. s3rver, not moto, because
# rclone lists with Delimiter='/' and moto refuses an encoded '/' in the
# query. rclone needs AWS_CA_BUNDLE unset.
source "$(dirname "$0")/lib_s3.sh"
need rclone
start_s3rver rclone-bkt
start_proxy "$S3RVER_URL"
mkdir -p "$TEST_TMP/src"
head -c 1000000 /dev/urandom >"$TEST_TMP/src/small.bin"
head -c $((12 * 1024 * 1024)) /dev/urandom >"$TEST_TMP/src/big.bin"
remote=":s3,provider=Other,env_auth=true,region=us-east-1,endpoint='$PROXY_URL':rclone-bkt"
rc() { env -u AWS_CA_BUNDLE rclone --config /dev/null --s3-upload-cutoff 5M --s3-chunk-size 5M "$@"; }
rc copy "$TEST_TMP/src" "$remote/dir"
assert_eq "$(rc lsf "$remote/dir" | sort | tr '\n' ' ')" "big.bin small.bin " "rclone listing"
rc copy "$remote/dir" "$TEST_TMP/dst"
cmp "$TEST_TMP/dst/small.bin" "$TEST_TMP/src/small.bin" || fail "small.bin differs"
cmp "$TEST_TMP/dst/big.bin" "$TEST_TMP/src/big.bin" || fail "big.bin differs"
rc delete "$remote/dir"
assert_eq "$(rc lsf "$remote/dir" | wc -l)" 0 "objects left after delete"
((  $(metric 'roar_proxy_requests_total{operation="upload_part",status="200"}') >= 3 )) || fail "rclone did not use multipart"
stop_proxy
