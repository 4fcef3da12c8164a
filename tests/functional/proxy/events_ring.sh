# roar-proxy --ring publishes one record per successful S3 data operation
# into the job's shared-memory ring: uri s3://bucket/key, the ETag exactly
# as the upstream returned it, the byte count, the HTTP status, and a
# BLAKE3 that matches b3sum of the bytes for whole-object GET/PUT. Failed
# calls publish nothing.
source "$(dirname "$0")/lib_s3.sh"
need b3sum
[[ -x "$RING_TOOL" ]] || fail "ring tool not built at $RING_TOOL"
start_moto
ring=/roar-proxytest-$$-$RANDOM
"$RING_TOOL" create "$ring" 4096
on_exit "'$RING_TOOL' remove '$ring'"
start_proxy "$MOTO_URL" --ring "$ring"

head -c 1234567 /dev/urandom >"$TEST_TMP/small.bin"
head -c $((11 * 1024 * 1024)) /dev/urandom >"$TEST_TMP/parts.bin"
AWS_ENDPOINT_URL_S3=$PROXY_URL python3 - "$TEST_TMP" >"$TEST_TMP/expected.json" <<'PY'
import json, sys, boto3
tmp = sys.argv[1]
s3 = boto3.client("s3")
small = open(f"{tmp}/small.bin", "rb").read()
parts = open(f"{tmp}/parts.bin", "rb").read()
s3.create_bucket(Bucket="events")
exp = {}
exp["put"] = s3.put_object(Bucket="events", Key="in/small.bin", Body=small)["ETag"]
got = s3.get_object(Bucket="events", Key="in/small.bin")
open(f"{tmp}/got.bin", "wb").write(got["Body"].read())
exp["get"] = got["ETag"]
s3.get_object(Bucket="events", Key="in/small.bin", Range="bytes=100-199")["Body"].read()
exp["head"] = s3.head_object(Bucket="events", Key="in/small.bin")["ETag"]
mpu = s3.create_multipart_upload(Bucket="events", Key="out/parts.bin")
uid = mpu["UploadId"]
half = 6 * 1024 * 1024
e1 = s3.upload_part(Bucket="events", Key="out/parts.bin", UploadId=uid, PartNumber=1, Body=parts[:half])["ETag"]
e2 = s3.upload_part(Bucket="events", Key="out/parts.bin", UploadId=uid, PartNumber=2, Body=parts[half:])["ETag"]
exp["mpu"] = s3.complete_multipart_upload(Bucket="events", Key="out/parts.bin", UploadId=uid, MultipartUpload={
    "Parts": [{"ETag": e1, "PartNumber": 1}, {"ETag": e2, "PartNumber": 2}]})["ETag"]
exp["upload_id"] = uid
exp["copy"] = s3.copy_object(Bucket="events", Key="out/copy.bin",
                             CopySource={"Bucket": "events", "Key": "in/small.bin"})["CopyObjectResult"]["ETag"]
s3.delete_object(Bucket="events", Key="out/copy.bin")
try:
    s3.get_object(Bucket="events", Key="in/missing")
except s3.exceptions.NoSuchKey:
    pass
json.dump(exp, sys.stdout)
PY
cmp "$TEST_TMP/got.bin" "$TEST_TMP/small.bin"
stop_proxy # flushes; every event is in the ring once the proxy exited
"$RING_TOOL" dump "$ring" >"$TEST_TMP/events.jsonl" 2>"$TEST_TMP/dump.log"
assert_contains "$(cat "$TEST_TMP/dump.log")" "dropped=0" "ring drops"

python3 - "$TEST_TMP" "$PROXY_PID" "$(b3 "$TEST_TMP/small.bin")" <<'PY'
import json, sys
tmp, proxy_pid, small_b3 = sys.argv[1], int(sys.argv[2]), sys.argv[3]
exp = json.load(open(f"{tmp}/expected.json"))
evs = [json.loads(l) for l in open(f"{tmp}/events.jsonl")]
OPS = {64: "get", 65: "put", 66: "delete", 67: "copy", 68: "mpu", 69: "head"}
seq = [(OPS[e["op"]], e["uri"]) for e in evs]
assert seq == [("put", "s3://events/in/small.bin"), ("get", "s3://events/in/small.bin"),
               ("get", "s3://events/in/small.bin"), ("head", "s3://events/in/small.bin"),
               ("mpu", "s3://events/out/parts.bin"), ("copy", "s3://events/out/copy.bin"),
               ("delete", "s3://events/out/copy.bin")], seq
put, get, rget, head, mpu, copy, delete = evs
for e in evs:
    assert e["pid"] == proxy_pid and e["time_ns"] > 0, e
def extra(e):
    return dict(l.split("=", 1) for l in e["extra"].splitlines() if l)
assert put["etag"] == exp["put"] and put["bytes"] == 1234567 and put["status"] == 200, put
assert extra(put)["blake3"] == small_b3, (extra(put), small_b3)
assert get["etag"] == exp["get"] and get["bytes"] == 1234567 and extra(get)["blake3"] == small_b3, get
assert rget["status"] == 206 and rget["bytes"] == 100 and extra(rget)["range"] == "bytes=100-199", rget
assert "blake3" not in extra(rget), rget
assert head["etag"] == exp["head"] and head["bytes"] == 1234567, head
assert mpu["etag"] == exp["mpu"] and mpu["etag"].endswith('-2"'), mpu
assert mpu["bytes"] == 11 * 1024 * 1024 and extra(mpu)["upload_id"] == exp["upload_id"], mpu
assert extra(mpu)["size"] == str(11 * 1024 * 1024), mpu
assert copy["etag"] == exp["copy"] and extra(copy)["source"] == "s3://events/in/small.bin", copy
assert delete["status"] == 204, delete
print("events ok:", len(evs))
PY
