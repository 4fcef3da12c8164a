# Presigned GET URLs (query-string SigV4) made for the proxy's address are
# verified by the proxy and re-signed with header auth for the upstream
# (s3rver here: moto answers 500 to presigned requests). Expired or
# tampered URLs are refused with 403.
source "$(dirname "$0")/lib_s3.sh"
start_s3rver presign
start_proxy "$S3RVER_URL"
head -c 200000 /dev/urandom >"$TEST_TMP/obj.bin"
python3 - "$PROXY_URL" "$TEST_TMP" <<'PY'
import sys, boto3
from botocore.config import Config
url, tmp = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=url, config=Config(signature_version="s3v4"))
s3.put_object(Bucket="presign", Key="a b/obj+1.bin", Body=open(f"{tmp}/obj.bin", "rb").read())
open(f"{tmp}/url", "w").write(s3.generate_presigned_url(
    "get_object", Params={"Bucket": "presign", "Key": "a b/obj+1.bin"}, ExpiresIn=600))
open(f"{tmp}/url-expired", "w").write(s3.generate_presigned_url(
    "get_object", Params={"Bucket": "presign", "Key": "a b/obj+1.bin"}, ExpiresIn=1))
PY
url=$(cat "$TEST_TMP/url")
assert_contains "$url" "X-Amz-Signature=" "presigned URL"
curl -fsS -o "$TEST_TMP/got.bin" "$url"
cmp "$TEST_TMP/got.bin" "$TEST_TMP/obj.bin" || fail "presigned GET returned other bytes"
# Tampered: another key with the same signature.
status=$(curl -sS -o "$TEST_TMP/err.xml" -w '%{http_code}' "${url/obj%2B1/obj%2B2}")
assert_eq "$status" 403 "tampered presigned URL"
assert_contains "$(cat "$TEST_TMP/err.xml")" "SignatureDoesNotMatch" "tampered error"
sleep 2.2
status=$(curl -sS -o "$TEST_TMP/err.xml" -w '%{http_code}' "$(cat "$TEST_TMP/url-expired")")
assert_eq "$status" 403 "expired presigned URL"
assert_contains "$(cat "$TEST_TMP/err.xml")" "Request has expired" "expired error"
assert_not_contains "$(cat "$TEST_TMP/proxy.log")" "X-Amz-Signature=${url##*X-Amz-Signature=}" "proxy log"
stop_proxy
