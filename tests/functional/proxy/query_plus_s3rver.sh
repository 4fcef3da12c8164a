# A raw '+' in a query string is a space to S3: `prefix=a+b` lists the keys
# under "a b" through the proxy exactly as it does sent straight to the
# upstream (s3rver, which decodes the query like S3). The client signs the
# decoded form (a%20b) and sends the raw '+'; the proxy verifies it and
# forwards what it signs for the upstream (prefix=a%20b).
source "$(dirname "$0")/lib_s3.sh"
start_s3rver plus
start_proxy "$S3RVER_URL"
"$PYTHON" - "$PROXY_URL" "$S3RVER_URL" <<'PY'
import sys, boto3
from botocore.config import Config
proxy, direct = sys.argv[1], sys.argv[2]

def client(url):
    s3 = boto3.client("s3", endpoint_url=url, config=Config(signature_version="s3v4"))
    def raw_plus(request, **kwargs):
        # botocore encodes the space as %20; send the form-encoded '+' instead.
        base, _, query = request.url.partition("?")
        request.url = base + "?" + query.replace("%20", "+")
    s3.meta.events.register("before-send.s3.ListObjectsV2", raw_plus)
    return s3

def keys(s3, prefix):
    return [o["Key"] for o in s3.list_objects_v2(Bucket="plus", Prefix=prefix).get("Contents", [])]

via_proxy, straight = client(proxy), client(direct)
for key in ("a b/1", "a+b/2", "ab/3"):
    via_proxy.put_object(Bucket="plus", Key=key, Body=key.encode())

print("check: the upstream itself reads a raw '+' in the query as a space")
assert keys(straight, "a b") == ["a b/1"], keys(straight, "a b")
print("check: prefix=a+b lists the same keys through the proxy as direct")
assert keys(via_proxy, "a b") == ["a b/1"], keys(via_proxy, "a b")
print("check: an encoded plus (prefix=a%2Bb) still means a plus")
assert keys(via_proxy, "a+b") == ["a+b/2"] == keys(straight, "a+b"), keys(via_proxy, "a+b")
PY
stop_proxy
