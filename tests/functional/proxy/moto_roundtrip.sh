# Single PUT/GET byte-exact round trip, HEAD, listing, ranged GET, copy and
# delete through roar-proxy to moto_server with SigV4 checking on (so every
# forwarded request proves the re-signing), using the image's boto3 with
# AWS_ENDPOINT_URL_S3. Also checks the request metrics.
source "$(dirname "$0")/lib_s3.sh"
start_moto
start_proxy "$MOTO_URL"

AWS_ENDPOINT_URL_S3=$PROXY_URL python3 - <<'PY'
import os, boto3
s3 = boto3.client("s3")
s3.create_bucket(Bucket="roundtrip")
data = os.urandom(3 * 1024 * 1024 + 17)
key = "dir/sub dir/file~v1.bin"  # space and '~'; moto rejects '+', '=', '&' (TEST-PEERS.md)
put = s3.put_object(Bucket="roundtrip", Key=key, Body=data, Metadata={"who": "roar"})
got = s3.get_object(Bucket="roundtrip", Key=key)
assert got["Body"].read() == data, "GET body differs from PUT body"
assert got["ETag"] == put["ETag"], (got["ETag"], put["ETag"])
head = s3.head_object(Bucket="roundtrip", Key=key)
assert head["ContentLength"] == len(data) and head["Metadata"] == {"who": "roar"}, head
rng = s3.get_object(Bucket="roundtrip", Key=key, Range="bytes=1000-1999")
assert rng["ResponseMetadata"]["HTTPStatusCode"] == 206
assert rng["Body"].read() == data[1000:2000]
s3.put_object(Bucket="roundtrip", Key="other/empty", Body=b"")
assert s3.get_object(Bucket="roundtrip", Key="other/empty")["Body"].read() == b""
keys = [o["Key"] for o in s3.list_objects_v2(Bucket="roundtrip")["Contents"]]
assert sorted(keys) == ["dir/sub dir/file~v1.bin", "other/empty"], keys
v1 = [o["Key"] for o in s3.list_objects(Bucket="roundtrip", Prefix="other")["Contents"]]
assert v1 == ["other/empty"], v1
s3.copy_object(Bucket="roundtrip", Key="copy.bin", CopySource={"Bucket": "roundtrip", "Key": key})
assert s3.get_object(Bucket="roundtrip", Key="copy.bin")["Body"].read() == data
s3.delete_object(Bucket="roundtrip", Key=key)
try:
    s3.head_object(Bucket="roundtrip", Key=key)
    raise SystemExit("object still there after delete")
except s3.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] in ("404", "NoSuchKey"), e.response
# Upstream errors pass through unchanged (moto's own XML).
try:
    s3.get_object(Bucket="roundtrip", Key="missing")
    raise SystemExit("missing key did not fail")
except s3.exceptions.NoSuchKey as e:
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404
print("boto3 round trip ok")
PY

assert_eq "$(metric 'roar_proxy_requests_total{operation="put_object",status="200"}')" 2 "PUT count"
assert_eq "$(metric 'roar_proxy_requests_total{operation="get_object",status="206"}')" 1 "ranged GET count"
assert_eq "$(metric 'roar_proxy_requests_total{operation="get_object",status="404"}')" 1 "404 passthrough count"
in_bytes=$(metric roar_proxy_bytes_in_total)
((in_bytes >= 3 * 1024 * 1024)) || fail "bytes_in only $in_bytes"
assert_eq "$(curl -fsS "$PROXY_URL/_roar/health")" ok "health"
assert_not_contains "$(cat "$TEST_TMP/proxy.log")" "$AWS_SECRET_ACCESS_KEY" "proxy log"
stop_proxy
