# SigV2 through the proxy with both boto3 versions on this machine (the
# image's 1.43 and Debian's 1.26): their default presigned URLs
# (AWSAccessKeyId/Signature/Expires) for GET and PUT, and header-signed
# calls (`Authorization: AWS AK:sig`, signature_version="s3") are verified
# against the proxy's credentials and forwarded re-signed with SigV4
# (s3rver upstream: moto answers presigned requests with 500). Expired and
# tampered URLs are refused, and the proxy's log never shows a signature.
source "$(dirname "$0")/lib_s3.sh"
start_s3rver sigv2
start_proxy "$S3RVER_URL" --verbose

interpreters=("$PYTHON")
if /usr/bin/python3 -c 'import boto3' 2>/dev/null; then
  interpreters+=(/usr/bin/python3)
fi
for py in "${interpreters[@]}"; do
  "$py" - "$PROXY_URL" "$TEST_TMP/urls-$(basename "$py")" <<'PY'
import http.client, sys, time, urllib.parse
import boto3
from botocore.config import Config

proxy, url_log = sys.argv[1], sys.argv[2]
tag = f"boto3 {boto3.__version__}"
key = f"dir/{boto3.__version__}/a b+c.bin"
data = bytes(range(256)) * 1000

def check(what):
    print(f"check: {what} ({tag})")

def fetch(url, method="GET", body=None):
    # http.client sends no Content-Type of its own (a presigned URL signs
    # the one the request will carry: none here).
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.netloc, timeout=30)
    conn.request(method, parts.path + "?" + parts.query, body=body)
    r = conn.getresponse()
    out = r.status, r.read()
    conn.close()
    return out

default = boto3.client("s3", endpoint_url=proxy, region_name="us-east-1")
v2 = boto3.client("s3", endpoint_url=proxy, region_name="us-east-1", config=Config(signature_version="s3"))

check("a default presigned PUT URL is SigV2 and stores the object")
put_url = default.generate_presigned_url("put_object", Params={"Bucket": "sigv2", "Key": key}, ExpiresIn=600)
assert "AWSAccessKeyId=" in put_url and "Signature=" in put_url and "Expires=" in put_url, put_url
assert "X-Amz-Signature" not in put_url, put_url
status, _ = fetch(put_url, "PUT", data)
assert status == 200, status

check("a default presigned GET URL returns the object")
get_url = default.generate_presigned_url("get_object", Params={"Bucket": "sigv2", "Key": key}, ExpiresIn=600)
status, body = fetch(get_url)
assert status == 200 and body == data, (status, len(body))

check("a presigned GET with a response override (a signed sub-resource) works")
dl_url = default.generate_presigned_url(
    "get_object", Params={"Bucket": "sigv2", "Key": key, "ResponseContentType": "text/plain"}, ExpiresIn=600)
status, body = fetch(dl_url)
assert status == 200 and body == data, status

check("a tampered presigned URL is refused with SignatureDoesNotMatch")
status, body = fetch(get_url.replace("a%20b", "a%20c"))
assert status == 403 and b"SignatureDoesNotMatch" in body, (status, body)

check("an expired presigned URL is refused")
expired = default.generate_presigned_url("get_object", Params={"Bucket": "sigv2", "Key": key}, ExpiresIn=1)
time.sleep(2.2)
status, body = fetch(expired)
assert status == 403 and b"Request has expired" in body, (status, body)

check("header-signed SigV2 calls: put, get, list with a prefix, delete")
v2.put_object(Bucket="sigv2", Key=key + ".v2", Body=b"header signed")
assert v2.get_object(Bucket="sigv2", Key=key + ".v2")["Body"].read() == b"header signed"
listed = [o["Key"] for o in v2.list_objects(Bucket="sigv2", Prefix=f"dir/{boto3.__version__}/")["Contents"]]
assert listed == [key, key + ".v2"], listed
v2.delete_object(Bucket="sigv2", Key=key + ".v2")

check("SigV2 with another secret is refused")
wrong = boto3.client("s3", endpoint_url=proxy, region_name="us-east-1", aws_access_key_id="S3RVER",
                     aws_secret_access_key="not-the-secret", config=Config(signature_version="s3"))
try:
    wrong.get_object(Bucket="sigv2", Key=key)
    raise AssertionError("a wrong SigV2 signature was accepted")
except wrong.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "SignatureDoesNotMatch", e.response

with open(url_log, "w") as f:
    f.write("\n".join([put_url, get_url, dl_url]) + "\n")
PY
done

check "the proxy log shows no SigV2 signature or access key"
log=$(cat "$TEST_TMP/proxy.log")
assert_contains "$log" "AWSAccessKeyId=REDACTED" "verbose log"
assert_contains "$log" "Signature=REDACTED" "verbose log"
assert_not_contains "$log" "AWSAccessKeyId=S3RVER" "proxy log"
while IFS= read -r url; do
  sig=${url##*Signature=}
  sig=${sig%%&*}
  assert_not_contains "$log" "$sig" "proxy log"
done < <(cat "$TEST_TMP"/urls-*)
stop_proxy
