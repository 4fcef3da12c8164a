# GetObject and HeadObject ?partNumber=N through roar-proxy --gateway FILE
# with boto3 against two moto backends on loopback: a multipart upload of
# unequal parts reads back part by part (206, Content-Range, the object's
# ETag, PartsCount) from the layout kept at CompleteMultipartUpload, with
# the copies' failover of any ranged read; an object of one PUT or copy is
# one part; numbers outside 1..10000, a part the object does not have and
# partNumber with Range are refused as S3 refuses them; conditional headers
# still decide first; the layout goes with the version it belongs to; and
# an object found by `sync` whose layout the backend does not tell is
# refused with 501 and a message saying to read it with a Range.
source "$(dirname "$0")/lib_gateway.sh"
need python3
start_backend_a
start_backend_b

new_gateway_url
cat >"$TEST_TMP/gw.toml" <<EOF
$(gateway_toml_head "$GW_PORT" "sqlite://$TEST_TMP/gw.db")
$(backends_toml 67108864 "" "")
$(data_bucket_toml)

[[bucket]]
name = "twice"
backends = ["a", "b"]
replicas = 2
key_prefix = "twice/"
EOF

# A multipart object written to b before the gateway knew it, imported by sync.
static <<PY
$PYHEAD
up = b.create_multipart_upload(Bucket="store-b", Key="data/synced/mp.bin")["UploadId"]
etag = b.upload_part(Bucket="store-b", Key="data/synced/mp.bin", UploadId=up, PartNumber=1, Body=b"s" * 1000)["ETag"]
b.complete_multipart_upload(Bucket="store-b", Key="data/synced/mp.bin", UploadId=up,
                            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
PY
"$PROXY" --gateway "$TEST_TMP/gw.toml" sync --backend b >"$TEST_TMP/sync.txt" 2>&1 ||
  fail "sync failed: $(cat "$TEST_TMP/sync.txt")"
start_gateway gateway "$TEST_TMP/gw.toml"

# The Python side: the unequal parts of one multipart object, written once.
cat >"$TEST_TMP/parts.py" <<'PY'
import random
# Three unequal parts: two above moto's 5 MiB minimum, a short last one.
SIZES = [5 * 1024 * 1024 + 123, 5 * 1024 * 1024 + 4567, 777]
BODY = random.Random(14).randbytes(sum(SIZES))
def span(n):
    """(first byte, size) of part n (1-based)."""
    return sum(SIZES[:n - 1]), SIZES[n - 1]
PY
parts_py() { PYTHONPATH=$TEST_TMP static; }

check "GetObject ?partNumber=N of a multipart object answers 206 with exactly that part's bytes, Content-Range, the object's ETag and PartsCount"
parts_py <<PY
$PYHEAD
from parts import *
up = gw.create_multipart_upload(Bucket="data", Key="mp/obj.bin")["UploadId"]
done = []
for n in range(1, len(SIZES) + 1):
    first, size = span(n)
    done.append({"PartNumber": n, "ETag": gw.upload_part(Bucket="data", Key="mp/obj.bin", UploadId=up, PartNumber=n,
                                                         Body=BODY[first:first + size])["ETag"]})
etag = gw.complete_multipart_upload(Bucket="data", Key="mp/obj.bin", UploadId=up,
                                    MultipartUpload={"Parts": done})["ETag"]
assert etag.endswith('-3"'), etag
for n in range(1, len(SIZES) + 1):
    first, size = span(n)
    got = gw.get_object(Bucket="data", Key="mp/obj.bin", PartNumber=n)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206, (n, got["ResponseMetadata"])
    assert got["Body"].read() == BODY[first:first + size], "part %d's bytes differ" % n
    assert got["ContentLength"] == size, (n, got["ContentLength"])
    assert got["ContentRange"] == "bytes %d-%d/%d" % (first, first + size - 1, len(BODY)), (n, got["ContentRange"])
    assert got["ETag"] == etag, (n, got["ETag"])
    assert got["PartsCount"] == 3, (n, got.get("PartsCount"))
# The whole object is still one read, without a parts count.
whole = gw.get_object(Bucket="data", Key="mp/obj.bin")
assert whole["Body"].read() == BODY and "PartsCount" not in whole
PY

check "HeadObject ?partNumber=N gives the part's length and range, the ETag and PartsCount, without a body"
parts_py <<PY
$PYHEAD
from parts import *
etag = gw.head_object(Bucket="data", Key="mp/obj.bin")["ETag"]
first, size = span(2)
h = gw.head_object(Bucket="data", Key="mp/obj.bin", PartNumber=2)
assert h["ResponseMetadata"]["HTTPStatusCode"] == 206, h["ResponseMetadata"]
assert (h["ContentLength"], h["PartsCount"], h["ETag"]) == (size, 3, etag), h
assert h["ContentRange"] == "bytes %d-%d/%d" % (first, first + size - 1, len(BODY)), h["ContentRange"]
PY

check "a part the multipart object does not have is 416 InvalidPartNumber"
parts_py <<PY
$PYHEAD
assert code(lambda: gw.get_object(Bucket="data", Key="mp/obj.bin", PartNumber=4)) == "416 InvalidPartNumber"
assert code(lambda: gw.head_object(Bucket="data", Key="mp/obj.bin", PartNumber=4)) == "416 416"
PY

check "an object of one PUT is one part: partNumber=1 is the whole object (206, no PartsCount), 2 is InvalidPartNumber"
parts_py <<PY
$PYHEAD
gw.put_object(Bucket="data", Key="one/put.txt", Body=b"one single put")
got = gw.get_object(Bucket="data", Key="one/put.txt", PartNumber=1)
assert got["ResponseMetadata"]["HTTPStatusCode"] == 206, got["ResponseMetadata"]
assert got["Body"].read() == b"one single put"
assert got["ContentRange"] == "bytes 0-13/14", got["ContentRange"]
assert "PartsCount" not in got, got
h = gw.head_object(Bucket="data", Key="one/put.txt", PartNumber=1)
assert (h["ResponseMetadata"]["HTTPStatusCode"], h["ContentLength"]) == (206, 14), h
assert code(lambda: gw.get_object(Bucket="data", Key="one/put.txt", PartNumber=2)) == "416 InvalidPartNumber"
assert code(lambda: gw.head_object(Bucket="data", Key="one/put.txt", PartNumber=2)) == "416 416"
PY

check "CopyObject of a multipart object makes an object of one part"
parts_py <<PY
$PYHEAD
from parts import *
gw.copy_object(Bucket="data", Key="one/copy.bin", CopySource={"Bucket": "data", "Key": "mp/obj.bin"})
got = gw.get_object(Bucket="data", Key="one/copy.bin", PartNumber=1)
assert got["Body"].read() == BODY and "PartsCount" not in got, got.get("PartsCount")
assert code(lambda: gw.get_object(Bucket="data", Key="one/copy.bin", PartNumber=2)) == "416 InvalidPartNumber"
PY

check "partNumber outside 1..10000 is 400 InvalidArgument; with a Range header it is 400 InvalidRequest"
parts_py <<PY
$PYHEAD
for n in (0, -1, 10001):
    assert code(lambda: gw.get_object(Bucket="data", Key="mp/obj.bin", PartNumber=n)) == "400 InvalidArgument", n
    assert code(lambda: gw.head_object(Bucket="data", Key="mp/obj.bin", PartNumber=n)) == "400 400", n
assert code(lambda: gw.get_object(Bucket="data", Key="mp/obj.bin", PartNumber=1, Range="bytes=0-9")) \
    == "400 InvalidRequest"
assert code(lambda: gw.head_object(Bucket="data", Key="one/put.txt", PartNumber=1, Range="bytes=0-9")) == "400 400"
PY

check "conditional headers still decide first: If-None-Match of the ETag is 304, a wrong If-Match 412"
parts_py <<PY
$PYHEAD
etag = gw.head_object(Bucket="data", Key="mp/obj.bin")["ETag"]
assert code(lambda: gw.get_object(Bucket="data", Key="mp/obj.bin", PartNumber=2, IfNoneMatch=etag)) == "304 304"
assert code(lambda: gw.get_object(Bucket="data", Key="mp/obj.bin", PartNumber=2, IfMatch='"0000"')) \
    == "412 PreconditionFailed"
assert code(lambda: gw.head_object(Bucket="data", Key="mp/obj.bin", PartNumber=2, IfNoneMatch=etag)) == "304 304"
got = gw.get_object(Bucket="data", Key="mp/obj.bin", PartNumber=3, IfMatch=etag)
assert got["ResponseMetadata"]["HTTPStatusCode"] == 206 and got["ContentLength"] == 777
PY

check "a multipart object replaced by a PUT loses its layout with its version: one part now"
parts_py <<PY
$PYHEAD
gw.put_object(Bucket="data", Key="mp/obj.bin", Body=b"replaced by one put")
got = gw.get_object(Bucket="data", Key="mp/obj.bin", PartNumber=1)
assert got["Body"].read() == b"replaced by one put" and "PartsCount" not in got
assert code(lambda: gw.get_object(Bucket="data", Key="mp/obj.bin", PartNumber=2)) == "416 InvalidPartNumber"
PY

check "an object found by sync whose part sizes the backend does not tell is 501 with a message naming Range"
parts_py <<PY
$PYHEAD
whole = gw.get_object(Bucket="data", Key="synced/mp.bin")
assert whole["Body"].read() == b"s" * 1000
try:
    gw.get_object(Bucket="data", Key="synced/mp.bin", PartNumber=1)
    raise SystemExit("a part of an unknown layout was served")
except botocore.exceptions.ClientError as e:
    err = e.response["Error"]
    assert (e.response["ResponseMetadata"]["HTTPStatusCode"], err["Code"]) == (501, "NotImplemented"), e.response
    assert "Range" in err["Message"], err["Message"]
PY

check "a part is read from the next copy when a backend is down, as any ranged read"
parts_py <<PY
$PYHEAD
from parts import *
import time
up = gw.create_multipart_upload(Bucket="twice", Key="mp.bin")["UploadId"]
done = []
for n in (1, 2):
    first, size = span(n)
    done.append({"PartNumber": n, "ETag": gw.upload_part(Bucket="twice", Key="mp.bin", UploadId=up, PartNumber=n,
                                                         Body=BODY[first:first + size])["ETag"]})
gw.complete_multipart_upload(Bucket="twice", Key="mp.bin", UploadId=up, MultipartUpload={"Parts": done})
for _ in range(150):
    if keys(a, "store-a", "twice/") and keys(b, "store-b", "twice/"):
        break
    time.sleep(0.2)
assert len(keys(a, "store-a", "twice/")) == 1 and len(keys(b, "store-b", "twice/")) == 1, "not replicated"
PY
stop_backend A
parts_py <<PY
$PYHEAD
from parts import *
for n in (2, 1):
    first, size = span(n)
    got = gw.get_object(Bucket="twice", Key="mp.bin", PartNumber=n)
    assert got["Body"].read() == BODY[first:first + size], "part %d's bytes differ" % n
    assert (got["PartsCount"], got["ContentRange"]) == (2, "bytes %d-%d/%d" % (first, first + size - 1,
                                                                            sum(SIZES[:2]))), got
PY
assert_contains "$(cat "$TEST_TMP/gateway.log")" "trying the next copy" "a read failed over from backend a"
echo "PASS: $TEST_NAME"
