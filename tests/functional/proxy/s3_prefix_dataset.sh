# S3 prefix datasets (issue 13): a job that lists s3://bkt/train/ through the
# proxy (a boto3 paginator, MaxKeys=2: three pages) and reads every object
# the listing returned records the prefix as one dataset input with 5
# files, the objects staying inputs; a job that reads only some records no
# dataset. The dataset's digest is the documented encoding (roar-s3-dataset-v1).
source "$(dirname "$0")/lib_s3.sh"
need b3sum
"$ROAR" proxy --help >/dev/null 2>&1 || skip "'roar proxy' is not wired into the CLI yet"
# moto's own SigV4 check rejects a listing whose prefix holds a '/'
# (SignatureDoesNotMatch even without roar), so moto runs here without it;
# the proxy still verifies the client's signature and re-signs.
need moto_server
port=$(free_port)
MOTO_URL=http://127.0.0.1:$port
bg_start moto moto_server -H 127.0.0.1 -p "$port"
wait_port "$port" 30 || fail "moto_server did not start"
export AWS_ACCESS_KEY_ID=roar-test AWS_SECRET_ACCESS_KEY=roar-test-secret
export ROAR_UPSTREAM_S3_ENDPOINT=$MOTO_URL
new_project
"$ROAR" proxy enable >/dev/null

for i in 1 2 3 4 5; do head -c $((1000 * i)) /dev/urandom >"$TEST_TMP/obj$i"; done
python3 - "$MOTO_URL" "$TEST_TMP" <<'PY'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1])
s3.create_bucket(Bucket="bkt")
for i in range(1, 6):
    s3.put_object(Bucket="bkt", Key=f"train/obj{i}", Body=open(f"{sys.argv[2]}/obj{i}", "rb").read())
s3.put_object(Bucket="bkt", Key="other/x", Body=b"x")
PY
cat >read_prefix.py <<'PY'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1])
keys = []
for page in s3.get_paginator("list_objects_v2").paginate(Bucket="bkt", Prefix="train/", PaginationConfig={"PageSize": 2}):
    keys += [o["Key"] for o in page.get("Contents", [])]
assert len(keys) == 5, keys
for k in keys[: int(sys.argv[2])]:
    s3.get_object(Bucket="bkt", Key=k)["Body"].read()
PY

check "a job that lists a prefix over several pages and reads every object records one S3 dataset input"
report=$("$ROAR" run python3 read_prefix.py "$MOTO_URL" 5 2>&1 >/dev/null)
j=$(show_json @1)
assert_eq "$(jq '[.inputs[] | select(.kind == "dataset")] | length' <<<"$j")" 1 "datasets: $(jq -c .inputs <<<"$j")"
ds=$(jq -c '.inputs[] | select(.kind == "dataset")' <<<"$j")
assert_eq "$(jq -r .path <<<"$ds")" "s3://bkt/train/" "dataset path"
assert_eq "$(jq .files <<<"$ds")" 5 "dataset files"
assert_eq "$(jq .size <<<"$ds")" 15000 "dataset bytes"
assert_eq "$(jq '[.inputs[] | select(.kind == "s3" and .dataset == "s3://bkt/train/")] | length' <<<"$j")" 5 \
  "the objects stay inputs, each naming its dataset"

check "the S3 dataset digest is BLAKE3 of the roar-s3-dataset-v1 encoding of (key, size, BLAKE3)"
expected=$(python3 - "$TEST_TMP" <<'PY'
import struct, subprocess, sys
enc = b"roar-s3-dataset-v1\n"
for i in range(1, 6):
    path = f"{sys.argv[1]}/obj{i}"
    data = open(path, "rb").read()
    digest = subprocess.run(["b3sum", "--no-names", path], capture_output=True, text=True).stdout.strip()
    name = f"obj{i}".encode()
    enc += struct.pack("<Q", len(name)) + name + struct.pack("<Q", len(data)) + bytes.fromhex(digest)
open(f"{sys.argv[1]}/encoding", "wb").write(enc)
PY
b3sum --no-names "$TEST_TMP/encoding")
assert_eq "$(jq -r .hashes.blake3 <<<"$ds")" "$expected" "dataset digest"

check "the run report and show's text view show the S3 dataset as one entry"
assert_contains "$report" "s3://bkt/train/  (dataset, 5 files" "report line"
text=$("$ROAR" show "$(jq -r .job_id <<<"$j")")
assert_contains "$text" "s3://bkt/train/  (dataset, 5 files" "show line"
assert_not_contains "$text" "bkt/train/obj3" "no member lines"

check "a job that reads only some of the listed objects records no dataset"
"$ROAR" run -q python3 read_prefix.py "$MOTO_URL" 3
j2=$(last_job)
assert_eq "$(jq '[.inputs[] | select(.kind == "dataset")] | length' <<<"$j2")" 0 "datasets"
assert_eq "$(jq '[.inputs[] | select(.kind == "s3")] | length' <<<"$j2")" 3 "S3 inputs"

check "roar status says the S3 dataset is remote, not checked"
st=$("$ROAR" status --json | jq -c '.files[] | select(.path == "s3://bkt/train/")')
assert_eq "$(jq -r .state <<<"$st")" remote "state: $st"
assert_contains "$("$ROAR" status)" "Datasets: 0 present, 0 modified, 0 missing, 1 remote (not checked)" \
  "datasets line"
echo ok
