# The BLAKE3 of objects uploaded in parts (issue 17), under `roar run`
# with the job's proxy on the redirected path, to moto_server (SigV4
# checked): `aws s3 cp` of a 70 MiB file (8 MiB parts) and boto3's
# upload_file with 5 MiB parts sent by 8 threads at once record for the S3
# output the BLAKE3 `b3sum` gives for the local file. An upload with a part
# the proxy never saw the bytes of (UploadPartCopy) records no BLAKE3 and a
# note saying why.
source "$(dirname "$0")/lib_s3.sh"
need b3sum aws
"$ROAR" proxy --help >/dev/null 2>&1 || skip "'roar proxy' is not wired into the CLI yet"
start_moto
export ROAR_UPSTREAM_S3_ENDPOINT=$MOTO_URL
new_project
"$ROAR" proxy enable >/dev/null

head -c $((70 * 1024 * 1024)) /dev/urandom >"$TEST_TMP/big.bin"
want=$(b3 "$TEST_TMP/big.bin")
AWS_ENDPOINT_URL_S3=$MOTO_URL aws s3 mb s3://mpu >/dev/null

# output_of JOB KEY: the job's output record for s3://mpu/KEY.
output_of() {
  local out
  out=$(show_json "$1" | jq -c --arg p "s3://mpu/$2" '.outputs[] | select(.path == $p)')
  [[ -n "$out" ]] || fail "no output s3://mpu/$2 in $(show_json "$1" | jq -c .outputs)"
  echo "$out"
}

check "aws s3 cp of a 70 MiB file records the file's BLAKE3 for the multipart object"
AWS_ENDPOINT_URL_S3=$MOTO_URL "$ROAR" run -q aws s3 cp --only-show-errors "$TEST_TMP/big.bin" s3://mpu/cli/big.bin
out=$(output_of @1 cli/big.bin)
[[ "$(jq -r '.hashes.etag' <<<"$out")" =~ -9\"?$ ]] || fail "not a 9-part upload: $out"
assert_eq "$(jq -r '.hashes.blake3' <<<"$out")" "$want" "BLAKE3 of the aws s3 cp upload"
assert_eq "$(jq -r '.size' <<<"$out")" $((70 * 1024 * 1024)) "size of the aws s3 cp upload"

check "boto3 upload_file with 5 MiB parts racing on 8 threads records the file's BLAKE3"
cat >upload.py <<'PY'
import sys, boto3
from boto3.s3.transfer import TransferConfig
s3 = boto3.client("s3", endpoint_url=sys.argv[1])
mib = 1024 * 1024
config = TransferConfig(multipart_threshold=5 * mib, multipart_chunksize=5 * mib, max_concurrency=8)
s3.upload_file(sys.argv[2], "mpu", "boto/big.bin", Config=config)
PY
"$ROAR" run -q python3 upload.py "$MOTO_URL" "$TEST_TMP/big.bin"
out=$(output_of @2 boto/big.bin)
[[ "$(jq -r '.hashes.etag' <<<"$out")" =~ -14\"?$ ]] || fail "not a 14-part upload: $out"
assert_eq "$(jq -r '.hashes.blake3' <<<"$out")" "$want" "BLAKE3 of the boto3 upload"

check "a part copied server-side leaves the object without a BLAKE3, and a note says which part"
cat >copy_part.py <<'PY'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1])
data = open(sys.argv[2], "rb").read(5 * 1024 * 1024)
up = s3.create_multipart_upload(Bucket="mpu", Key="mixed.bin")["UploadId"]
p1 = s3.upload_part(Bucket="mpu", Key="mixed.bin", UploadId=up, PartNumber=1, Body=data)["ETag"]
p2 = s3.upload_part_copy(Bucket="mpu", Key="mixed.bin", UploadId=up, PartNumber=2,
                         CopySource={"Bucket": "mpu", "Key": "cli/big.bin"},
                         CopySourceRange="bytes=0-1023")["CopyPartResult"]["ETag"]
s3.complete_multipart_upload(Bucket="mpu", Key="mixed.bin", UploadId=up, MultipartUpload={
    "Parts": [{"PartNumber": 1, "ETag": p1}, {"PartNumber": 2, "ETag": p2}]})
PY
"$ROAR" run -q python3 copy_part.py "$MOTO_URL" "$TEST_TMP/big.bin"
out=$(output_of @3 mixed.bin)
assert_eq "$(jq -r '.hashes.blake3 // "none"' <<<"$out")" none "BLAKE3 of the object with a copied part"
[[ "$(jq -r '.hashes.etag' <<<"$out")" =~ -2\"?$ ]] || fail "no multipart ETag: $out"
jq -e '[.notes[]? | select(test("part 2"))] | length == 1' <<<"$out" >/dev/null || fail "no note naming part 2: $out"
echo ok
