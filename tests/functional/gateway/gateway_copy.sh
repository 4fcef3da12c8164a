# CopyObject through roar-proxy --gateway FILE with boto3 and the aws CLI
# against two moto backends on loopback (A checks SigV4, B does not):
# copies within a bucket (the backend's own CopyObject when the source has
# a copy on the chosen backend) and across buckets (streamed), the COPY and
# REPLACE metadata directives, the errors S3 gives (missing source, a copy
# onto itself), a source versionId (null is the current object, any other
# 501), 507 with nothing written when the destination has no room,
# quota charged for every copy, and another tenant's bucket out of reach.
source "$(dirname "$0")/lib_gateway.sh"
need aws curl jq
start_backend_a
start_backend_b

new_gateway_url
cat >"$TEST_TMP/gw.toml" <<EOF
$(gateway_toml_head "$GW_PORT" "sqlite://$TEST_TMP/gw.db")
[replication]
poll_interval = "200ms"
[tenant_defaults]
backends = ["b"]
$(backends_toml 1048576 67108864 "")
$(data_bucket_toml)

[[bucket]]
name = "other"
backends = ["b"]
key_prefix = "other/"

[[bucket]]
name = "small"
backends = ["a"]
key_prefix = "small/"
EOF
start_gateway gateway "$TEST_TMP/gw.toml"
# used NAME: backend NAME's used_bytes and reserved_bytes, "USED RESERVED".
used() { "$PROXY" admin backends status | jq -r --arg n "$1" '.backends[] | select(.name == $n) | "\(.used_bytes) \(.reserved_bytes)"'; }

head -c 300000 /dev/urandom >"$TEST_TMP/src.bin"
static "$TEST_TMP/src.bin" <<PY
$PYHEAD
gw.put_object(Bucket="data", Key="dir/src 1.bin", Body=open(sys.argv[1], "rb").read(),
              ContentType="application/x-src", Metadata={"origin": "test", "step": "one"})
assert len(keys(a, "store-a", "data/dir/src 1.bin~")) == 1, "the source is not on backend a"
PY

check "CopyObject within a bucket keeps the bytes, content type and user metadata (COPY)"
before_a=$(used a)
static "$TEST_TMP/src.bin" <<PY
$PYHEAD
body = open(sys.argv[1], "rb").read()
src = gw.head_object(Bucket="data", Key="dir/src 1.bin")
r = gw.copy_object(Bucket="data", Key="dir/copy.bin", CopySource={"Bucket": "data", "Key": "dir/src 1.bin"})
assert r["CopyObjectResult"]["ETag"] == src["ETag"], (r["CopyObjectResult"], src["ETag"])
assert r["CopyObjectResult"]["LastModified"].year >= 2024, r["CopyObjectResult"]
got = gw.get_object(Bucket="data", Key="dir/copy.bin")
assert got["Body"].read() == body, "the copy's bytes differ"
assert got["ETag"] == src["ETag"], got["ETag"]
assert got["ContentType"] == "application/x-src", got["ContentType"]
assert got["Metadata"] == {"origin": "test", "step": "one"}, got["Metadata"]
head = gw.head_object(Bucket="data", Key="dir/copy.bin")
assert head["Metadata"] == {"origin": "test", "step": "one"}, head["Metadata"]
assert head["ContentLength"] == len(body), head
# First-fit puts the copy on a, where the source lives: one more backend key there.
on_a = keys(a, "store-a", "data/dir/copy.bin~")
assert len(on_a) == 1, on_a
assert a.get_object(Bucket="store-a", Key=on_a[0])["Body"].read() == body
# The source is untouched.
assert gw.get_object(Bucket="data", Key="dir/src 1.bin")["Body"].read() == body
PY
read -r ua ra <<<"$(used a)"
read -r ua0 _ <<<"$before_a"
assert_eq "$((ua - ua0)) $ra" "300000 0" "backend a charged the copy's bytes, nothing left reserved"

check "CopyObject across buckets streams to the destination's backend"
before_b=$(used b)
static "$TEST_TMP/src.bin" <<PY
$PYHEAD
body = open(sys.argv[1], "rb").read()
r = gw.copy_object(Bucket="other", Key="x/y.bin", CopySource="data/dir/src 1.bin?versionId=null")
got = gw.get_object(Bucket="other", Key="x/y.bin")
assert got["Body"].read() == body, "the cross-bucket copy's bytes differ"
assert got["ETag"] == r["CopyObjectResult"]["ETag"], (got["ETag"], r)
assert got["ContentType"] == "application/x-src", got["ContentType"]
assert got["Metadata"] == {"origin": "test", "step": "one"}, got["Metadata"]
on_b = keys(b, "store-b", "other/x/y.bin~")
assert len(on_b) == 1, on_b
assert b.get_object(Bucket="store-b", Key=on_b[0])["Body"].read() == body
assert keys(a, "store-a", "other/") == [], "nothing of bucket other on backend a"
PY
read -r ub rb <<<"$(used b)"
read -r ub0 _ <<<"$before_b"
assert_eq "$((ub - ub0)) $rb" "300000 0" "backend b charged the copy's bytes, nothing left reserved"

check "MetadataDirective REPLACE takes the request's content type and metadata"
static "$TEST_TMP/src.bin" <<PY
$PYHEAD
body = open(sys.argv[1], "rb").read()
gw.copy_object(Bucket="data", Key="dir/replaced.bin", CopySource={"Bucket": "data", "Key": "dir/src 1.bin"},
               MetadataDirective="REPLACE", ContentType="text/x-new", Metadata={"fresh": "yes"})
got = gw.get_object(Bucket="data", Key="dir/replaced.bin")
assert got["Body"].read() == body
assert got["ContentType"] == "text/x-new", got["ContentType"]
assert got["Metadata"] == {"fresh": "yes"}, got["Metadata"]
assert gw.head_object(Bucket="data", Key="dir/replaced.bin")["Metadata"] == {"fresh": "yes"}
# Onto itself: allowed with REPLACE (the way to change an object's metadata) ...
gw.copy_object(Bucket="data", Key="dir/replaced.bin", CopySource="data/dir/replaced.bin",
               MetadataDirective="REPLACE", ContentType="text/x-newer", Metadata={"fresh": "again"})
got = gw.get_object(Bucket="data", Key="dir/replaced.bin")
assert got["Body"].read() == body
assert (got["ContentType"], got["Metadata"]) == ("text/x-newer", {"fresh": "again"}), got
# ... and refused as S3 does with COPY.
assert code(lambda: gw.copy_object(Bucket="data", Key="dir/replaced.bin",
                                   CopySource="data/dir/replaced.bin")) == "400 InvalidRequest"
PY

check "a missing source is 404 NoSuchKey (or NoSuchBucket) and writes nothing"
static <<PY
$PYHEAD
before = (keys(a, "store-a", ""), keys(b, "store-b", ""))
assert code(lambda: gw.copy_object(Bucket="data", Key="k", CopySource="data/no/such.bin")) == "404 NoSuchKey"
assert code(lambda: gw.copy_object(Bucket="data", Key="k", CopySource="nobucket/x")) == "404 NoSuchBucket"
assert code(lambda: gw.copy_object(Bucket="nobucket", Key="k", CopySource="data/dir/src 1.bin")) == "404 NoSuchBucket"
assert code(lambda: gw.head_object(Bucket="data", Key="k")) == "404 404"
assert (keys(a, "store-a", ""), keys(b, "store-b", "")) == before, "a refused copy wrote to a backend"
PY

check "a copy source's versionId=null is the current object; any other version is refused with 501 and writes nothing"
static "$TEST_TMP/src.bin" <<PY
$PYHEAD
body = open(sys.argv[1], "rb").read()
# null is the version id S3 gives every object of an unversioned bucket.
gw.copy_object(Bucket="data", Key="ver/null.bin", CopySource={"Bucket": "data", "Key": "dir/src 1.bin", "VersionId": "null"})
assert gw.get_object(Bucket="data", Key="ver/null.bin")["Body"].read() == body, "the versionId=null copy differs"
before = (keys(a, "store-a", ""), keys(b, "store-b", ""))
bogus = "3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY"
try:
    gw.copy_object(Bucket="data", Key="ver/old.bin", CopySource={"Bucket": "data", "Key": "dir/src 1.bin", "VersionId": bogus})
    raise AssertionError("a copy of version %s was accepted" % bogus)
except botocore.exceptions.ClientError as e:
    assert (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]) == (501, "NotImplemented"), e.response
    assert "versionId other than null" in e.response["Error"]["Message"], e.response["Error"]["Message"]
assert code(lambda: gw.head_object(Bucket="data", Key="ver/old.bin")) == "404 404"
up = gw.create_multipart_upload(Bucket="data", Key="ver/parts.bin")["UploadId"]
assert code(lambda: gw.upload_part_copy(Bucket="data", Key="ver/parts.bin", UploadId=up, PartNumber=1,
                                        CopySource={"Bucket": "data", "Key": "dir/src 1.bin", "VersionId": bogus})) \
    == "501 NotImplemented"
assert gw.list_parts(Bucket="data", Key="ver/parts.bin", UploadId=up).get("Parts", []) == []
p1 = gw.upload_part_copy(Bucket="data", Key="ver/parts.bin", UploadId=up, PartNumber=1,
                         CopySource={"Bucket": "data", "Key": "dir/src 1.bin", "VersionId": "null"})
gw.complete_multipart_upload(Bucket="data", Key="ver/parts.bin", UploadId=up, MultipartUpload={"Parts": [
    {"PartNumber": 1, "ETag": p1["CopyPartResult"]["ETag"]}]})
assert gw.get_object(Bucket="data", Key="ver/parts.bin")["Body"].read() == body
after = (keys(a, "store-a", ""), keys(b, "store-b", ""))
new = [k for k in after[0] + after[1] if k not in before[0] + before[1]]
assert all(k.startswith("data/ver/parts.bin~") for k in new), new
PY

check "a copy the destination has no room for is 507 with nothing written"
head -c 2000000 /dev/urandom >"$TEST_TMP/big.bin"
static "$TEST_TMP/big.bin" <<PY
$PYHEAD
gw.put_object(Bucket="data", Key="big.bin", Body=open(sys.argv[1], "rb").read())
assert len(keys(b, "store-b", "data/big.bin~")) == 1, "2 MB should not fit a's 1 MiB quota"
PY
before=$("$PROXY" admin backends status)
static <<PY
$PYHEAD
assert code(lambda: gw.copy_object(Bucket="small", Key="big.bin", CopySource="data/big.bin")) == "507 InsufficientStorage"
assert keys(a, "store-a", "small/") == [], keys(a, "store-a", "small/")
assert code(lambda: gw.head_object(Bucket="small", Key="big.bin")) == "404 404"
PY
after=$("$PROXY" admin backends status)
assert_eq "$(jq -c '[.backends[] | {name, used_bytes, reserved_bytes}]' <<<"$after")" \
  "$(jq -c '[.backends[] | {name, used_bytes, reserved_bytes}]' <<<"$before")" "quota counters unchanged by the refused copy"

check "aws s3 cp between two gateway buckets is a CopyObject"
# copies_ok: the CopyObject requests answered 200 so far.
copies_ok() {
  curl -sf "$GW_URL/_roar/metrics" | awk '$1 == "roar_gateway_requests_total{op=\"CopyObject\",status=\"200\"}" { v = $2 } END { print v + 0 }'
}
copies_before=$(copies_ok)
export AWS_ACCESS_KEY_ID=AKIAGATEWAYTEST AWS_SECRET_ACCESS_KEY=$GW_SECRET
aws --endpoint-url "$GW_URL" s3 cp "s3://data/dir/src 1.bin" s3://other/by-cli.bin >/dev/null 2>"$TEST_TMP/aws.err" ||
  fail "aws s3 cp failed: $(cat "$TEST_TMP/aws.err")"
aws --endpoint-url "$GW_URL" s3 cp s3://other/by-cli.bin "$TEST_TMP/by-cli.bin" >/dev/null
cmp -s "$TEST_TMP/by-cli.bin" "$TEST_TMP/src.bin" || fail "the aws CLI's copy differs from the source"
assert_eq "$(($(copies_ok) - copies_before))" 1 "the aws CLI's copy counted as one CopyObject"

check "another tenant cannot copy from the static key's buckets"
keys_json=$("$PROXY" admin tenants create team-c >/dev/null && "$PROXY" admin keys create team-c)
TK=$(jq -r .access_key <<<"$keys_json")
TS=$(jq -r .secret_key <<<"$keys_json")
gw_py "$TK" "$TS" <<PY
$PYHEAD
gw.create_bucket(Bucket="mine")
assert code(lambda: gw.copy_object(Bucket="mine", Key="stolen", CopySource="data/dir/src 1.bin")) == "404 NoSuchBucket"
assert code(lambda: gw.head_object(Bucket="mine", Key="stolen")) == "404 404"
PY
check "UploadPartCopy with ranges assembles the source into a new object"
head -c 7000000 /dev/urandom >"$TEST_TMP/parts.bin"
before_b=$(used b)
static "$TEST_TMP/parts.bin" <<PY
$PYHEAD
body = open(sys.argv[1], "rb").read()
gw.put_object(Bucket="data", Key="parts-src.bin", Body=body)
up = gw.create_multipart_upload(Bucket="other", Key="assembled.bin")["UploadId"]
cut = 5 * 1024 * 1024
p1 = gw.upload_part_copy(Bucket="other", Key="assembled.bin", UploadId=up, PartNumber=1,
                         CopySource={"Bucket": "data", "Key": "parts-src.bin"}, CopySourceRange="bytes=0-%d" % (cut - 1))
p2 = gw.upload_part_copy(Bucket="other", Key="assembled.bin", UploadId=up, PartNumber=2,
                         CopySource="data/parts-src.bin", CopySourceRange="bytes=%d-%d" % (cut, len(body) - 1))
assert p1["CopyPartResult"]["ETag"] and p2["CopyPartResult"]["ETag"], (p1, p2)
assert code(lambda: gw.upload_part_copy(Bucket="other", Key="assembled.bin", UploadId=up, PartNumber=3,
                                        CopySource="data/parts-src.bin",
                                        CopySourceRange="bytes=0-%d" % len(body))) == "400 InvalidArgument"
assert code(lambda: gw.upload_part_copy(Bucket="other", Key="assembled.bin", UploadId=up, PartNumber=3,
                                        CopySource="data/none.bin")) == "404 NoSuchKey"
parts = gw.list_parts(Bucket="other", Key="assembled.bin", UploadId=up)["Parts"]
assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, cut), (2, len(body) - cut)], parts
gw.complete_multipart_upload(Bucket="other", Key="assembled.bin", UploadId=up, MultipartUpload={"Parts": [
    {"PartNumber": 1, "ETag": p1["CopyPartResult"]["ETag"]}, {"PartNumber": 2, "ETag": p2["CopyPartResult"]["ETag"]}]})
got = gw.get_object(Bucket="other", Key="assembled.bin")["Body"].read()
assert got == body, "the assembled object's bytes differ from the source"
PY
read -r ub rb <<<"$(used b)"
read -r ub0 _ <<<"$before_b"
assert_eq "$((ub - ub0)) $rb" "14000000 0" "backend b charged the source and the assembled copy, nothing left reserved"

echo "PASS: $TEST_NAME"
