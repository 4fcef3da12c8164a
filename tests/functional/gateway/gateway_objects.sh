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
# version 2, so the upgrades to 3, 4, 5 and 6 are checked on that engine too.
# Then S3's conditional requests (If-Match, If-None-Match, If-Modified-Since,
# If-Unmodified-Since on GET and HEAD; If-None-Match: * and If-Match on PUT
# and CompleteMultipartUpload, create-only racing writers included),
# Content-MD5 (BadDigest, InvalidDigest), the standard object headers and
# response-* overrides, and the refusals (501) of what the gateway does not
# keep: versions, tags, other storage classes, encryption
# (SSE-C, SSE-KMS, SSE-S3), object lock, website redirects, grants and ACLs
# other than private.
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
    -c "ALTER TABLE gw_objects DROP COLUMN object_headers" \
    -c "ALTER TABLE gw_uploads DROP COLUMN object_headers" \
    -c "ALTER TABLE gw_objects DROP COLUMN parts_count" \
    -c "DROP TABLE gw_object_parts" \
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
  check "the gateway upgrades a version-2 PostgreSQL schema to 6, keeping the upload begun before"
  assert_eq "$(pg -tAc "SELECT value FROM gateway_metadata.gw_settings WHERE name = 'schema_version'")" 6 "schema version"
  assert_eq "$(pg -tAc "SELECT object_headers FROM gateway_metadata.gw_uploads WHERE id = 'v2upload'")" "" \
    "the old upload's (empty) standard headers"
  assert_eq "$(pg -tAc "SELECT user_metadata FROM gateway_metadata.gw_uploads WHERE id = 'v2upload'")" "" \
    "the old upload's (empty) user metadata"
  objects_py <<'PY'
from gwobj import *
ups = gw.list_multipart_uploads(Bucket="data").get("Uploads", [])
assert [(u["Key"], u["UploadId"]) for u in ups] == [("from-v2", "v2upload")], ups
PY
fi

check "a multipart upload's content type and user metadata reach HeadObject, GetObject and CopyObject, its parts GetObject ?partNumber"
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
# Its parts' sizes are kept (on either engine): part 2 reads back alone.
part = gw.get_object(Bucket="data", Key="mpu/model.bin", PartNumber=2)
assert (part["Body"].read(), part["PartsCount"]) == (body[cut:], 2), "part 2 of the multipart object"
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

check "GetObject and HeadObject answer If-Match, If-None-Match, If-Modified-Since and If-Unmodified-Since as S3 does"
objects_py <<'PY'
from gwobj import *
import datetime
etag = gw.put_object(Bucket="data", Key="cond/get", Body=b"v1")["ETag"]
future, past = datetime.datetime(2099, 1, 1), datetime.datetime(2000, 1, 1)
for op in (gw.get_object, gw.head_object):
    get = lambda **kw: op(Bucket="data", Key="cond/get", **kw)
    assert error_of(lambda: get(IfMatch='"0000"')) in ("412 PreconditionFailed", "412 412"), op
    assert error_of(lambda: get(IfNoneMatch=etag)) == "304 304", op
    assert error_of(lambda: get(IfModifiedSince=future)) == "304 304", op
    assert error_of(lambda: get(IfUnmodifiedSince=past)) in ("412 PreconditionFailed", "412 412"), op
    assert error_of(lambda: get(IfMatch=etag, IfNoneMatch='"other"', IfModifiedSince=past,
                                IfUnmodifiedSince=future)) == "ok", op
    # S3's precedence: a true If-Match wins over a false If-Unmodified-Since,
    # a false If-None-Match answers 304 whatever If-Modified-Since says.
    assert error_of(lambda: get(IfMatch=etag, IfUnmodifiedSince=past)) == "ok", op
    assert error_of(lambda: get(IfNoneMatch=etag, IfModifiedSince=past)) == "304 304", op
assert gw.get_object(Bucket="data", Key="cond/get", IfMatch=etag)["Body"].read() == b"v1"
PY
# A 304 carries the ETag and no body.
ETAG=$(objects_py <<'PY'
from gwobj import *
print(gw.head_object(Bucket="data", Key="cond/get")["ETag"])
PY
)
curl -s -D "$TEST_TMP/h304" -o "$TEST_TMP/b304" --aws-sigv4 "aws:amz:us-east-1:s3" \
  --user "AKIAGATEWAYTEST:$GW_SECRET" -H "If-None-Match: $ETAG" "$GW_URL/data/cond/get"
grep -q '^HTTP/1.1 304' "$TEST_TMP/h304" || fail "no 304: $(head -1 "$TEST_TMP/h304")"
grep -qi "^ETag: $ETAG" "$TEST_TMP/h304" || fail "a 304 without the ETag"
[[ ! -s "$TEST_TMP/b304" ]] || fail "a 304 with a body"

check "a PUT with If-None-Match: * on an existing key, or a wrong If-Match, is 412 and keeps the object; If-Match on no object is 404"
objects_py <<'PY'
from gwobj import *
first = gw.put_object(Bucket="data", Key="cond/put", Body=b"original owner", IfNoneMatch="*")["ETag"]
assert error_of(lambda: gw.put_object(Bucket="data", Key="cond/put", Body=b"second", IfNoneMatch="*")) \
    == "412 PreconditionFailed"
assert error_of(lambda: gw.put_object(Bucket="data", Key="cond/put", Body=b"third",
                                      IfMatch='"00000000000000000000000000000000"')) == "412 PreconditionFailed"
assert gw.get_object(Bucket="data", Key="cond/put")["Body"].read() == b"original owner"
assert error_of(lambda: gw.put_object(Bucket="data", Key="cond/none", Body=b"x", IfMatch=first)) == "404 NoSuchKey"
assert error_of(lambda: gw.head_object(Bucket="data", Key="cond/none")) == "404 404"
gw.put_object(Bucket="data", Key="cond/put", Body=b"rightful update", IfMatch=first)
assert gw.get_object(Bucket="data", Key="cond/put")["Body"].read() == b"rightful update"
PY

check "of eight concurrent create-only PUTs of one key exactly one wins, and the object is the winner's"
objects_py <<'PY'
from gwobj import *
import threading
results = {}
def writer(i):
    body = (b"writer %d " % i) * 40000
    results[i] = (error_of(lambda: gw.put_object(Bucket="data", Key="cond/race", Body=body, IfNoneMatch="*")), body)
threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
for t in threads: t.start()
for t in threads: t.join()
winners = [i for i, (r, _) in results.items() if r == "ok"]
assert len(winners) == 1, results
assert all(r == "412 PreconditionFailed" for i, (r, _) in results.items() if i not in winners), results
assert gw.get_object(Bucket="data", Key="cond/race")["Body"].read() == results[winners[0]][1]
PY

check "CompleteMultipartUpload honours If-None-Match: * and If-Match"
objects_py <<'PY'
from gwobj import *
import botocore
def upload(key, body):
    u = gw.create_multipart_upload(Bucket="data", Key=key)["UploadId"]
    e = gw.upload_part(Bucket="data", Key=key, UploadId=u, PartNumber=1, Body=body)["ETag"]
    return u, {"Parts": [{"PartNumber": 1, "ETag": e}]}
old = gw.put_object(Bucket="data", Key="cond/mp", Body=b"kept")["ETag"]
u, parts = upload("cond/mp", b"multipart bytes")
def complete(**kw):
    return gw.complete_multipart_upload(Bucket="data", Key="cond/mp", UploadId=u, MultipartUpload=parts, **kw)
try:
    complete(IfNoneMatch="*")
    raise SystemExit("a create-only completion replaced an existing object")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "PreconditionFailed", e.response
try:
    complete(IfMatch='"00000000000000000000000000000000"')
    raise SystemExit("a completion with a wrong If-Match replaced the object")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "PreconditionFailed", e.response
assert gw.get_object(Bucket="data", Key="cond/mp")["Body"].read() == b"kept"
complete(IfMatch=old)  # the upload survived the refusals made before the backend joined the parts
assert gw.get_object(Bucket="data", Key="cond/mp")["Body"].read() == b"multipart bytes"
PY

check "a PUT or UploadPart whose Content-MD5 does not match is BadDigest and stores nothing; a malformed one is InvalidDigest"
objects_py <<'PY'
from gwobj import *
import base64, hashlib
body = b"payload"
right = base64.b64encode(hashlib.md5(body).digest()).decode()
wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
gw.put_object(Bucket="data", Key="md5/right", Body=body, ContentMD5=right)
assert gw.get_object(Bucket="data", Key="md5/right")["Body"].read() == body
assert error_of(lambda: gw.put_object(Bucket="data", Key="md5/wrong", Body=body, ContentMD5=wrong)) == "400 BadDigest"
assert error_of(lambda: gw.head_object(Bucket="data", Key="md5/wrong")) == "404 404"
assert error_of(lambda: gw.put_object(Bucket="data", Key="md5/bad", Body=body, ContentMD5="not-base64")) \
    == "400 InvalidDigest"
assert error_of(lambda: gw.head_object(Bucket="data", Key="md5/bad")) == "404 404"
u = gw.create_multipart_upload(Bucket="data", Key="md5/mp")["UploadId"]
assert error_of(lambda: gw.upload_part(Bucket="data", Key="md5/mp", UploadId=u, PartNumber=1, Body=body,
                                       ContentMD5=wrong)) == "400 BadDigest"
assert gw.list_parts(Bucket="data", Key="md5/mp", UploadId=u).get("Parts", []) == []
gw.upload_part(Bucket="data", Key="md5/mp", UploadId=u, PartNumber=1, Body=body, ContentMD5=right)
assert len(gw.list_parts(Bucket="data", Key="md5/mp", UploadId=u)["Parts"]) == 1
gw.abort_multipart_upload(Bucket="data", Key="md5/mp", UploadId=u)
PY

check "Cache-Control, Content-Disposition, Content-Encoding, Content-Language and Expires are kept by PUT, multipart and COPY, replaced by REPLACE, and response-* overrides them on GET"
objects_py <<'PY'
from gwobj import *
import datetime
hdrs = dict(CacheControl="max-age=5", ContentDisposition='attachment; filename="x.bin"', ContentEncoding="gzip",
            ContentLanguage="de", Expires=datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc))
keys = list(hdrs)
def shown(r):
    return {k: r.get(k) for k in keys}
gw.put_object(Bucket="data", Key="hdr/put", Body=b"x", **hdrs)
assert shown(gw.head_object(Bucket="data", Key="hdr/put")) == hdrs
got = gw.get_object(Bucket="data", Key="hdr/put")
assert shown(got) == hdrs and got["Body"].read() == b"x"
u = gw.create_multipart_upload(Bucket="data", Key="hdr/mp", **hdrs)["UploadId"]
e = gw.upload_part(Bucket="data", Key="hdr/mp", UploadId=u, PartNumber=1, Body=b"x")["ETag"]
gw.complete_multipart_upload(Bucket="data", Key="hdr/mp", UploadId=u,
                             MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e}]})
assert shown(gw.head_object(Bucket="data", Key="hdr/mp")) == hdrs
gw.copy_object(Bucket="data", Key="hdr/copy", CopySource={"Bucket": "data", "Key": "hdr/put"})
assert shown(gw.head_object(Bucket="data", Key="hdr/copy")) == hdrs
gw.copy_object(Bucket="data", Key="hdr/replaced", CopySource={"Bucket": "data", "Key": "hdr/put"},
               MetadataDirective="REPLACE", CacheControl="no-store")
r = gw.head_object(Bucket="data", Key="hdr/replaced")
assert shown(r) == dict.fromkeys(keys) | {"CacheControl": "no-store"}, shown(r)
g = gw.get_object(Bucket="data", Key="hdr/put", ResponseContentType="image/png", ResponseContentDisposition="inline",
                  ResponseCacheControl="no-cache", ResponseContentLanguage="fi", ResponseContentEncoding="identity",
                  ResponseExpires=datetime.datetime(2031, 1, 1, tzinfo=datetime.timezone.utc))
assert (g["ContentType"], g["ContentDisposition"], g["CacheControl"], g["ContentLanguage"], g["ContentEncoding"],
        g["Expires"].year) == ("image/png", "inline", "no-cache", "fi", "identity", 2031), g
# A flexible-checksum upload's aws-chunked framing is not the object's Content-Encoding.
gw.put_object(Bucket="data", Key="hdr/chunked", Body=b"y" * 100, ChecksumAlgorithm="CRC32")
assert gw.head_object(Bucket="data", Key="hdr/chunked").get("ContentEncoding") is None
PY

check "versionId other than null and DeleteObjects naming a version are refused with 501; versionId=null is the current object"
objects_py <<'PY'
from gwobj import *
gw.put_object(Bucket="data", Key="ver/k", Body=b"current data")
bogus = "3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY"
assert error_of(lambda: gw.get_object(Bucket="data", Key="ver/k", VersionId=bogus)) == "501 NotImplemented"
assert error_of(lambda: gw.head_object(Bucket="data", Key="ver/k", VersionId=bogus)) == "501 501"
assert error_of(lambda: gw.delete_object(Bucket="data", Key="ver/k", VersionId=bogus)) == "501 NotImplemented"
assert error_of(lambda: gw.delete_objects(Bucket="data", Delete={"Objects": [{"Key": "ver/k", "VersionId": bogus}]})) \
    == "501 NotImplemented"
assert gw.get_object(Bucket="data", Key="ver/k")["Body"].read() == b"current data"
assert gw.get_object(Bucket="data", Key="ver/k", VersionId="null")["Body"].read() == b"current data"
gw.delete_objects(Bucket="data", Delete={"Objects": [{"Key": "ver/k", "VersionId": "null"}]})
assert error_of(lambda: gw.head_object(Bucket="data", Key="ver/k")) == "404 404"
PY

check "a PUT with x-amz-tagging or a storage class other than STANDARD is refused with 501 and stores nothing"
objects_py <<'PY'
from gwobj import *
assert error_of(lambda: gw.put_object(Bucket="data", Key="tag/t", Body=b"t", Tagging="team=a")) == "501 NotImplemented"
assert error_of(lambda: gw.put_object(Bucket="data", Key="tag/t", Body=b"t", StorageClass="STANDARD_IA")) \
    == "501 NotImplemented"
assert error_of(lambda: gw.create_multipart_upload(Bucket="data", Key="tag/t", Tagging="team=a")) \
    == "501 NotImplemented"
assert error_of(lambda: gw.head_object(Bucket="data", Key="tag/t")) == "404 404"
gw.put_object(Bucket="data", Key="tag/t", Body=b"t", StorageClass="STANDARD")
assert gw.get_object(Bucket="data", Key="tag/t")["Body"].read() == b"t"
PY

check "SSE-C, SSE-KMS, SSE-S3, object lock, website redirects, grants and ACLs other than private are refused with 501 naming the header, before any byte reaches a backend"
objects_py <<'PY'
import base64, datetime
from gwobj import *
def refused(call, header):
    try:
        call()
    except botocore.exceptions.ClientError as e:
        answer = e.response
        got = (answer["ResponseMetadata"]["HTTPStatusCode"], answer["Error"]["Code"])
        assert got == (501, "NotImplemented"), (header, got)
        assert header in answer["Error"]["Message"], (header, answer["Error"]["Message"])
        return
    raise AssertionError("a request with %s was accepted" % header)
gw.put_object(Bucket="data", Key="plain/src", Body=b"plain source")
ssec = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": b"k" * 32}
source_ssec = {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": b"k" * 32}
put = lambda **kw: gw.put_object(Bucket="data", Key="sse/put", Body=b"secret", **kw)
refused(lambda: put(**ssec), "x-amz-server-side-encryption-customer-")
refused(lambda: put(ServerSideEncryption="AES256"), "x-amz-server-side-encryption AES256")
refused(lambda: put(ServerSideEncryption="aws:kms"), "x-amz-server-side-encryption aws:kms")
refused(lambda: put(ServerSideEncryption="aws:kms:dsse"), "x-amz-server-side-encryption aws:kms:dsse")
refused(lambda: put(SSEKMSKeyId="alias/k"), "x-amz-server-side-encryption-aws-kms-key-id")
refused(lambda: put(SSEKMSEncryptionContext=base64.b64encode(b'{"a":"b"}').decode()),
        "x-amz-server-side-encryption-context")
refused(lambda: put(BucketKeyEnabled=True), "x-amz-server-side-encryption-bucket-key-enabled")
refused(lambda: put(ObjectLockMode="GOVERNANCE"), "x-amz-object-lock-mode")
refused(lambda: put(ObjectLockRetainUntilDate=datetime.datetime(2099, 1, 1)), "x-amz-object-lock-retain-until-date")
refused(lambda: put(ObjectLockLegalHoldStatus="ON"), "x-amz-object-lock-legal-hold")
refused(lambda: put(WebsiteRedirectLocation="/elsewhere"), "x-amz-website-redirect-location")
refused(lambda: put(GrantRead='id="abc"'), "x-amz-grant-read")
refused(lambda: put(ACL="public-read"), "x-amz-acl public-read")
copy = lambda **kw: gw.copy_object(Bucket="data", Key="sse/copy", CopySource="data/plain/src", **kw)
refused(lambda: copy(**ssec), "x-amz-server-side-encryption-customer-")
refused(lambda: copy(**source_ssec), "x-amz-copy-source-server-side-encryption-customer-")
refused(lambda: copy(ServerSideEncryption="aws:kms"), "x-amz-server-side-encryption aws:kms")
refused(lambda: copy(ACL="authenticated-read"), "x-amz-acl authenticated-read")
create = lambda **kw: gw.create_multipart_upload(Bucket="data", Key="sse/mpu", **kw)
refused(lambda: create(**ssec), "x-amz-server-side-encryption-customer-")
refused(lambda: create(ServerSideEncryption="AES256"), "x-amz-server-side-encryption AES256")
refused(lambda: create(ObjectLockLegalHoldStatus="ON"), "x-amz-object-lock-legal-hold")
refused(lambda: create(GrantFullControl='id="abc"'), "x-amz-grant-full-control")
up = gw.create_multipart_upload(Bucket="data", Key="plain/mpu")["UploadId"]
refused(lambda: gw.upload_part(Bucket="data", Key="plain/mpu", UploadId=up, PartNumber=1, Body=b"p", **ssec),
        "x-amz-server-side-encryption-customer-")
refused(lambda: gw.upload_part_copy(Bucket="data", Key="plain/mpu", UploadId=up, PartNumber=1,
                                    CopySource="data/plain/src", **source_ssec),
        "x-amz-copy-source-server-side-encryption-customer-")
assert gw.list_parts(Bucket="data", Key="plain/mpu", UploadId=up).get("Parts", []) == []
gw.abort_multipart_upload(Bucket="data", Key="plain/mpu", UploadId=up)
refused(lambda: gw.get_object(Bucket="data", Key="plain/src", **ssec), "x-amz-server-side-encryption-customer-")
assert error_of(lambda: gw.head_object(Bucket="data", Key="plain/src", **ssec)) == "501 501"
for key in ("sse/put", "sse/copy", "sse/mpu"):
    assert error_of(lambda: gw.head_object(Bucket="data", Key=key)) == "404 404", key
assert [u["Key"] for u in gw.list_multipart_uploads(Bucket="data").get("Uploads", []) if u["Key"].startswith("sse/")] == []
# private is every object's ACL: asking for it changes nothing and is served.
gw.put_object(Bucket="data", Key="plain/private", Body=b"p", ACL="private")
gw.copy_object(Bucket="data", Key="plain/private-copy", CopySource="data/plain/private", ACL="private")
up = gw.create_multipart_upload(Bucket="data", Key="plain/private-mpu", ACL="private")["UploadId"]
gw.abort_multipart_upload(Bucket="data", Key="plain/private-mpu", UploadId=up)
assert gw.get_object(Bucket="data", Key="plain/private-copy")["Body"].read() == b"p"
PY
for backend in a b; do
  assert_eq "$(grep -c '/data/sse/' "$TEST_TMP/backend-$backend.log" || true)" 0 \
    "requests for the refused keys on backend $backend"
done

curl -sf "$GW_URL/_roar/metrics" | grep '^roar_gateway_copies_total' || true
echo "PASS: $TEST_NAME ($ENGINE)"
