# Object completeness through roar-proxy --gateway FILE with boto3 against
# two moto backends on loopback (A checks SigV4, B does not): the content
# type and x-amz-meta-* of a multipart upload reach HeadObject, GetObject
# and CopyObject; UploadPartCopy uses the backend's own UploadPartCopy when
# the source and the upload share a backend (the backend's access log sees
# no GET of the source) and streams otherwise, byte-equal either way; and
# virtual-host addressing (Host "BUCKET.gw.example:PORT") serves PUT, GET,
# HEAD, List and DELETE, verified over the Host the client signed; a
# flexible checksum sent with a PUT (x-amz-checksum-*) is verified (a
# mismatch is BadDigest and stores nothing), kept, and returned to a whole
# GetObject or HeadObject in checksum mode, and to a copy's.
# Virtual hosts need names that resolve: the Python clients resolve
# *.gw.example to 127.0.0.1 through a getaddrinfo wrapper (no DNS, no
# /etc/hosts change); the HTTP requests themselves are real.
# GW_OBJECTS_ENGINE=postgres (gateway_objects_postgres.sh) keeps the
# metadata on a throwaway PostgreSQL whose gateway schema starts at
# version 2, so the upgrades to 3 and 4 are checked on that engine too.
source "$(dirname "$0")/lib_backends.sh"
PROXY=$ROAR_BUILD_DIR/bin/roar-proxy
SQL_TOOL=${ROAR_GATEWAY_SQL_TOOL:-$ROAR_BUILD_DIR/bin/roar_gateway_sql_tool}
[[ -x "$PROXY" ]] || fail "roar-proxy not built at $PROXY"
need curl python3
ENGINE=${GW_OBJECTS_ENGINE:-sqlite}
start_backend_a
start_backend_b

METADATA_URL=sqlite://$TEST_TMP/gw.db
if [[ $ENGINE == postgres ]]; then
  [[ -x "$SQL_TOOL" ]] || fail "roar_gateway_sql_tool not built at $SQL_TOOL"
  start_postgres
  METADATA_URL=$PG_URL
  # A version-2 gateway schema: today's tables without what migration 3
  # added (gw_uploads.user_metadata), with an upload begun before the
  # upgrade (just now, so the stale-upload sweep leaves it alone).
  pg -c "CREATE SCHEMA gateway_metadata"
  "$SQL_TOOL" schema postgresql >"$TEST_TMP/schema.sql"
  PGOPTIONS="-c search_path=gateway_metadata" pg -f "$TEST_TMP/schema.sql"
  PGOPTIONS="-c search_path=gateway_metadata" pg \
    -c "ALTER TABLE gw_uploads DROP COLUMN user_metadata" \
    -c "ALTER TABLE gw_objects DROP COLUMN checksum_header" \
    -c "ALTER TABLE gw_objects DROP COLUMN checksum_value" \
    -c "INSERT INTO gw_settings (name, value) VALUES ('schema_version', '2')" \
    -c "INSERT INTO gw_uploads (id, tenant, bucket, object_key, backend, backend_bucket, backend_key,
          backend_upload_id, content_type, created_at)
        VALUES ('v2upload', 'default', 'data', 'from-v2', 'b', 'store-b', 'data/from-v2~v2upload', 'x', '',
                $(date +%s%3N))"
fi

export GW_SECRET=gateway-static-secret-0123456789
GW_PORT=$(free_port)
export GW_URL=http://127.0.0.1:$GW_PORT GW_PORT
cat >"$TEST_TMP/gw.toml" <<EOF
listen = "127.0.0.1:$GW_PORT"
virtual_host_suffix = "gw.example"
# Top-level keys come before the first table: the buckets as an array of inline tables.
bucket = [{ name = "data", backends = ["a", "b"], placement = "first-fit", key_prefix = "data/" },
          { name = "other", backends = ["b"], key_prefix = "other/" }]
[auth]
access_key = "AKIAGATEWAYTEST"
secret_key_env = "GW_SECRET"
[metadata]
url = "$METADATA_URL"
$(backends_toml 67108864 "" "")
EOF
"$PROXY" --gateway "$TEST_TMP/gw.toml" --log-file "$TEST_TMP/gateway.log" --verbose &
GW_PID=$!
on_exit "kill $GW_PID 2>/dev/null; wait $GW_PID 2>/dev/null"
wait_port "$GW_PORT" 30 || fail "the gateway did not start: $(tail -5 "$TEST_TMP/gateway.log")"

# The Python side: gateway clients (path style, and virtual-host style
# through the resolver wrapper) and backend A's client, in a module the
# checks import.
cat >"$TEST_TMP/gwobj.py" <<'PY'
import os, socket, boto3, botocore
from botocore.config import Config

_real_getaddrinfo = socket.getaddrinfo
def _loopback_for_gw_example(host, *args, **kwargs):
    # Names under gw.example exist only for this test: they all mean 127.0.0.1.
    if isinstance(host, str) and (host == "gw.example" or host.endswith(".gw.example")):
        host = "127.0.0.1"
    return _real_getaddrinfo(host, *args, **kwargs)
socket.getaddrinfo = _loopback_for_gw_example

def client(url, key, secret, style="path"):
    cfg = Config(retries={"max_attempts": 1}, s3={"addressing_style": style})
    return boto3.client("s3", endpoint_url=url, region_name="us-east-1", config=cfg,
                        aws_access_key_id=key, aws_secret_access_key=secret)

gw = client(os.environ["GW_URL"], "AKIAGATEWAYTEST", os.environ["GW_SECRET"])
vgw = client("http://gw.example:%s" % os.environ["GW_PORT"], "AKIAGATEWAYTEST", os.environ["GW_SECRET"], "virtual")
backend_a = client(os.environ["GW_A_URL"], os.environ["GW_A_KEY"], os.environ["GW_A_SECRET"])

def error_of(call):
    """The "STATUS Code" of the S3 error `call` raises, or "ok"."""
    try:
        call()
        return "ok"
    except botocore.exceptions.ClientError as e:
        answer = e.response
        return "%s %s" % (answer["ResponseMetadata"]["HTTPStatusCode"], answer["Error"]["Code"])

def backend_keys(client, bucket, prefix):
    # Filtered here: moto with auth rejects the signature of a Prefix holding "~".
    listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    return sorted(o["Key"] for o in listed if o["Key"].startswith(prefix))
PY
# objects_py ARGS...: the Python on stdin with the gwobj module loaded.
objects_py() { PYTHONPATH=$TEST_TMP python3 - "$@"; }
# metric NAME_AND_LABELS: that sample's value from /_roar/metrics (0 when absent).
metric() {
  curl -sf "$GW_URL/_roar/metrics" | awk -v m="$1" '$1 == m { v = $2 } END { print v + 0 }'
}

if [[ $ENGINE == postgres ]]; then
  check "the gateway upgrades a version-2 PostgreSQL schema to 4, keeping the upload begun before"
  assert_eq "$(pg -tAc "SELECT value FROM gateway_metadata.gw_settings WHERE name = 'schema_version'")" 4 "schema version"
  assert_eq "$(pg -tAc "SELECT user_metadata FROM gateway_metadata.gw_uploads WHERE id = 'v2upload'")" "" \
    "the old upload's (empty) user metadata"
  objects_py <<'PY'
from gwobj import *
ups = gw.list_multipart_uploads(Bucket="data").get("Uploads", [])
assert [(u["Key"], u["UploadId"]) for u in ups] == [("from-v2", "v2upload")], ups
PY
fi

check "a multipart upload's content type and user metadata reach HeadObject, GetObject and CopyObject"
head -c $((5 * 1024 * 1024 + 300000)) /dev/urandom >"$TEST_TMP/mpu.bin"
objects_py "$TEST_TMP/mpu.bin" <<'PY'
import sys
from gwobj import *
body = open(sys.argv[1], "rb").read()
meta = {"origin": "multipart", "run": "7"}
up = gw.create_multipart_upload(Bucket="data", Key="mpu/model.bin", ContentType="application/x-model",
                                Metadata=meta)["UploadId"]
cut = 5 * 1024 * 1024
parts = []
for n, chunk in ((1, body[:cut]), (2, body[cut:])):
    parts.append({"PartNumber": n, "ETag": gw.upload_part(Bucket="data", Key="mpu/model.bin", UploadId=up,
                                                          PartNumber=n, Body=chunk)["ETag"]})
gw.complete_multipart_upload(Bucket="data", Key="mpu/model.bin", UploadId=up, MultipartUpload={"Parts": parts})
head = gw.head_object(Bucket="data", Key="mpu/model.bin")
assert (head["ContentType"], head["Metadata"]) == ("application/x-model", meta), head
got = gw.get_object(Bucket="data", Key="mpu/model.bin")
assert got["Body"].read() == body, "the multipart object's bytes differ"
assert (got["ContentType"], got["Metadata"]) == ("application/x-model", meta), got
# COPY directive: within the bucket (the backend's own CopyObject, on a) and to
# a bucket on another backend (streamed); both keep the stored metadata.
for bucket, key in (("data", "mpu/copy.bin"), ("other", "mpu/copy.bin")):
    gw.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": "data", "Key": "mpu/model.bin"})
    copy = gw.head_object(Bucket=bucket, Key=key)
    assert (copy["ContentType"], copy["Metadata"]) == ("application/x-model", meta), (bucket, copy)
    assert gw.get_object(Bucket=bucket, Key=key)["Body"].read() == body, "the copy's bytes differ"
PY
assert_eq "$(metric 'roar_gateway_copies_total{op="CopyObject",backend="a",mode="backend"}')" 1 \
  "the copy within a's bucket was a's own CopyObject"
assert_eq "$(metric 'roar_gateway_copies_total{op="CopyObject",backend="b",mode="streamed"}')" 1 \
  "the copy to bucket other (on b) was streamed"

check "UploadPartCopy on the source's backend is the backend's own UploadPartCopy, byte-equal, ranges kept"
head -c $((6 * 1024 * 1024)) /dev/urandom >"$TEST_TMP/src.bin"
objects_py "$TEST_TMP/src.bin" <<'PY'
import sys
from gwobj import *
gw.put_object(Bucket="data", Key="pc/src.bin", Body=open(sys.argv[1], "rb").read())
assert len(backend_keys(backend_a, "store-a", "data/pc/src.bin~")) == 1, "the source is not on backend a"
PY
src_key=$(objects_py <<'PY'
from gwobj import *
print(backend_keys(backend_a, "store-a", "data/pc/src.bin~")[0])
PY
)
# The source's GETs on backend A so far (moto logs every request it serves).
gets_before=$(grep -c "\"GET /store-a/$src_key" "$TEST_TMP/backend-a.log" || true)
objects_py "$TEST_TMP/src.bin" <<'PY'
import sys
from gwobj import *
body = open(sys.argv[1], "rb").read()
cut = 5 * 1024 * 1024
up = gw.create_multipart_upload(Bucket="data", Key="pc/assembled.bin")["UploadId"]
p1 = gw.upload_part_copy(Bucket="data", Key="pc/assembled.bin", UploadId=up, PartNumber=1,
                         CopySource="data/pc/src.bin", CopySourceRange="bytes=%d-%d" % (len(body) - cut, len(body) - 1))
p2 = gw.upload_part_copy(Bucket="data", Key="pc/assembled.bin", UploadId=up, PartNumber=2,
                         CopySource="data/pc/src.bin", CopySourceRange="bytes=0-99999")
parts = gw.list_parts(Bucket="data", Key="pc/assembled.bin", UploadId=up)["Parts"]
assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, cut), (2, 100000)], parts
gw.complete_multipart_upload(Bucket="data", Key="pc/assembled.bin", UploadId=up, MultipartUpload={"Parts": [
    {"PartNumber": 1, "ETag": p1["CopyPartResult"]["ETag"]}, {"PartNumber": 2, "ETag": p2["CopyPartResult"]["ETag"]}]})
got = gw.get_object(Bucket="data", Key="pc/assembled.bin")["Body"].read()
assert got == body[len(body) - cut:] + body[:100000], "the assembled object differs from the source's ranges"
PY
gets_after=$(grep -c "\"GET /store-a/$src_key" "$TEST_TMP/backend-a.log" || true)
assert_eq "$gets_after" "$gets_before" "GETs of the source on backend a during the part copies (none: a copied them itself)"
assert_eq "$(metric 'roar_gateway_copies_total{op="UploadPartCopy",backend="a",mode="backend"}')" 2 \
  "part copies made by backend a's UploadPartCopy"

check "UploadPartCopy to an upload on another backend streams the range through the gateway"
objects_py "$TEST_TMP/src.bin" <<'PY'
import sys
from gwobj import *
body = open(sys.argv[1], "rb").read()
up = gw.create_multipart_upload(Bucket="other", Key="pc/streamed.bin")["UploadId"]
p1 = gw.upload_part_copy(Bucket="other", Key="pc/streamed.bin", UploadId=up, PartNumber=1,
                         CopySource="data/pc/src.bin", CopySourceRange="bytes=1000-1999")
gw.complete_multipart_upload(Bucket="other", Key="pc/streamed.bin", UploadId=up, MultipartUpload={"Parts": [
    {"PartNumber": 1, "ETag": p1["CopyPartResult"]["ETag"]}]})
assert gw.get_object(Bucket="other", Key="pc/streamed.bin")["Body"].read() == body[1000:2000]
PY
gets_streamed=$(grep -c "\"GET /store-a/$src_key" "$TEST_TMP/backend-a.log" || true)
assert_eq "$((gets_streamed - gets_after))" 1 "GETs of the source on backend a for the streamed part"
assert_eq "$(metric 'roar_gateway_copies_total{op="UploadPartCopy",backend="b",mode="streamed"}')" 1 \
  "part copies streamed to backend b"

check "virtual-host style PUT, GET, HEAD, List and DELETE reach the bucket named in Host"
objects_py <<'PY'
from gwobj import *
r = vgw.put_object(Bucket="data", Key="vhost/a b.txt", Body=b"by virtual host", Metadata={"style": "virtual"})
# The same object, path style.
assert gw.get_object(Bucket="data", Key="vhost/a b.txt")["Body"].read() == b"by virtual host"
got = vgw.get_object(Bucket="data", Key="vhost/a b.txt")
assert got["Body"].read() == b"by virtual host" and got["ETag"] == r["ETag"], got
assert vgw.head_object(Bucket="data", Key="vhost/a b.txt")["Metadata"] == {"style": "virtual"}
listed = [o["Key"] for o in vgw.list_objects_v2(Bucket="data", Prefix="vhost/").get("Contents", [])]
assert listed == ["vhost/a b.txt"], listed
assert error_of(lambda: vgw.get_object(Bucket="nosuchbucket", Key="x")) == "404 NoSuchBucket"
vgw.delete_object(Bucket="data", Key="vhost/a b.txt")
assert error_of(lambda: gw.head_object(Bucket="data", Key="vhost/a b.txt")) == "404 404"
PY
requests=$(grep -c "gateway request .*op=GetObject method=GET bucket=data key=vhost/a b.txt status=200" "$TEST_TMP/gateway.log" || true)
((requests >= 1)) || fail "the gateway log shows no virtual-host GET of /vhost/a b.txt"

check "a virtual-host request whose Host differs from the one signed is refused"
objects_py <<'PY'
from gwobj import *
def retarget(request, **kwargs):
    # After signing for data.gw.example, send it to other.gw.example.
    request.headers["Host"] = "other.gw.example:%s" % os.environ["GW_PORT"]
vgw.meta.events.register("before-send.s3.ListObjectsV2", retarget)
assert error_of(lambda: vgw.list_objects_v2(Bucket="data")) == "403 SignatureDoesNotMatch"
PY

check "a PUT's flexible checksum is verified, kept, and returned to a whole GetObject or HeadObject that asks"
objects_py <<'PY'
from gwobj import *
import base64, hashlib, zlib
body = b"checksummed bytes\n" * 1000
sha = base64.b64encode(hashlib.sha256(body).digest()).decode()
crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
# An explicit value goes as the x-amz-checksum-crc32 header; an algorithm
# alone is computed by botocore (as a header or an aws-chunked trailer).
put = gw.put_object(Bucket="data", Key="ck/crc", Body=body, ChecksumCRC32=crc)
assert put.get("ChecksumCRC32") == crc, put
put = gw.put_object(Bucket="data", Key="ck/sha", Body=body, ChecksumAlgorithm="SHA256")
assert put.get("ChecksumSHA256") == sha, put
# botocore checks a returned checksum against the body it reads.
got = gw.get_object(Bucket="data", Key="ck/crc", ChecksumMode="ENABLED")
assert got.get("ChecksumCRC32") == crc and got["Body"].read() == body, got
got = gw.get_object(Bucket="data", Key="ck/sha", ChecksumMode="ENABLED")
assert got.get("ChecksumSHA256") == sha and got["Body"].read() == body, got
assert gw.head_object(Bucket="data", Key="ck/sha", ChecksumMode="ENABLED").get("ChecksumSHA256") == sha
ranged = gw.get_object(Bucket="data", Key="ck/sha", ChecksumMode="ENABLED", Range="bytes=0-9")
assert "ChecksumSHA256" not in ranged and ranged["Body"].read() == body[:10], ranged
# CopyObject keeps the source's checksum: the bytes are the same.
gw.copy_object(Bucket="data", Key="ck/copy", CopySource={"Bucket": "data", "Key": "ck/crc"})
assert gw.head_object(Bucket="data", Key="ck/copy", ChecksumMode="ENABLED").get("ChecksumCRC32") == crc
PY

check "a PUT whose x-amz-checksum-crc32 does not match its bytes is refused with BadDigest, one with a CRC-64/NVME or a bare x-amz-checksum- header with InvalidRequest, and nothing is stored"
objects_py <<'PY'
from gwobj import *
assert error_of(lambda: gw.put_object(Bucket="data", Key="ck/bad", Body=b"some bytes",
                                      ChecksumCRC32="AAAAAA==")) == "400 BadDigest"
assert error_of(lambda: gw.head_object(Bucket="data", Key="ck/bad")) == "404 404"
# A checksum the gateway cannot compute is refused, not let through unchecked.
assert error_of(lambda: gw.put_object(Bucket="data", Key="ck/nvme", Body=b"some bytes",
                                      ChecksumCRC64NVME="AAAAAAAAAAA=")) == "400 InvalidRequest"
assert error_of(lambda: gw.head_object(Bucket="data", Key="ck/nvme")) == "404 404"
# So is a checksum header that names no algorithm at all.
def bare_checksum(request, **kwargs):
    request.headers["x-amz-checksum-"] = "AAAAAA=="
gw.meta.events.register("before-sign.s3.PutObject", bare_checksum)
assert error_of(lambda: gw.put_object(Bucket="data", Key="ck/bare", Body=b"some bytes")) == "400 InvalidRequest"
gw.meta.events.unregister("before-sign.s3.PutObject", bare_checksum)
assert error_of(lambda: gw.head_object(Bucket="data", Key="ck/bare")) == "404 404"
PY

curl -sf "$GW_URL/_roar/metrics" | grep '^roar_gateway_copies_total' || true
echo "PASS: $TEST_NAME ($ENGINE)"
