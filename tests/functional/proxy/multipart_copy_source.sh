# `roar run aws s3 cp s3://pcopy/big s3://pcopy/big2` of an object above
# the CLI's multipart threshold (5 MB here, in a throwaway AWS config) goes
# through the job's proxy to moto as a HeadObject, CreateMultipartUpload,
# one UploadPartCopy per range and CompleteMultipartUpload. The source is
# one input of the job, with the ETag moto holds for it (the CLI sends the
# ETag of its HEAD as x-amz-copy-source-if-match) and its size, linked to
# the job that wrote it; the copy is the output. A job (boto3) that HEADs
# the object and then copies only part of it without if-match has it as an
# input with the HEAD's ETag and size, read partially.
source "$(dirname "$0")/lib_s3.sh"
need aws jq
"$ROAR" proxy --help >/dev/null 2>&1 || skip "'roar proxy' is not wired into the CLI yet"
start_moto
export ROAR_UPSTREAM_S3_ENDPOINT=$MOTO_URL
new_project
"$ROAR" proxy enable >/dev/null
cat >"$AWS_CONFIG_FILE" <<'EOF'
[default]
s3 =
  multipart_threshold = 5MB
  multipart_chunksize = 5MB
EOF

size=$((12 * 1024 * 1024))
head -c "$size" /dev/urandom >"$TEST_TMP/big.bin"
aws --endpoint-url "$MOTO_URL" s3 mb s3://pcopy >/dev/null
cat >write.sh <<'EOF'
aws --endpoint-url "$1" s3 cp --only-show-errors "$2" s3://pcopy/big
EOF
"$ROAR" run -q bash write.sh "$MOTO_URL" "$TEST_TMP/big.bin"
writer=$(show_json @1)
src_etag=$(moto_etag pcopy big)

check "a multipart copy (aws s3 cp s3:// s3://) records its source as one input with the source's ETag and size"
cat >copy.sh <<'EOF'
aws --endpoint-url "$1" s3 cp --only-show-errors s3://pcopy/big s3://pcopy/big2
EOF
"$ROAR" run -q bash copy.sh "$MOTO_URL"
j=$(show_json @2)
inputs=$(jq -c '[.inputs[] | select(.path == "s3://pcopy/big")]' <<<"$j")
assert_eq "$(jq length <<<"$inputs")" 1 "inputs named s3://pcopy/big (all inputs: $(jq -c .inputs <<<"$j"))"
assert_eq "$(jq -r '.[0].hashes.etag' <<<"$inputs")" "$src_etag" "the source's ETag"
assert_eq "$(jq -r '.[0].size' <<<"$inputs")" "$size" "the source's size"

check "its parts cover the whole source, so it is not marked as read partially"
assert_eq "$(jq -c '.[0].notes // []' <<<"$inputs")" '[]' "the source's notes"

check "the copy is the job's output with moto's multipart ETag"
out=$(jq -c '.outputs[] | select(.path == "s3://pcopy/big2")' <<<"$j")
[[ -n "$out" ]] || fail "the copy is not an output: $(jq -c .outputs <<<"$j")"
copy_etag=$(moto_etag pcopy big2)
[[ "$copy_etag" =~ -[0-9]+\"?$ ]] || fail "the copy was not made in parts (ETag $copy_etag)"
assert_eq "$(jq -r '.hashes.etag' <<<"$out")" "$copy_etag" "the copy's ETag"

check "the copy's source links the copy to the job that wrote the source"
producer=$("$ROAR" show --lineage --json s3://pcopy/big2 |
  jq -r '.lineage.jobs[] | select(.step == 2) | .inputs[] | select(.path == "s3://pcopy/big") | .producer_job')
assert_eq "$producer" "$(jq -r .job_id <<<"$writer")" "the job that wrote s3://pcopy/big"

check "a part copy without x-amz-copy-source-if-match takes the ETag and size of the process's HEAD before it"
cat >half.py <<'PY'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1])
s3.head_object(Bucket="pcopy", Key="big")
up = s3.create_multipart_upload(Bucket="pcopy", Key="half")["UploadId"]
part = s3.upload_part_copy(Bucket="pcopy", Key="half", UploadId=up, PartNumber=1,
                           CopySource={"Bucket": "pcopy", "Key": "big"},
                           CopySourceRange="bytes=0-5242879")
s3.complete_multipart_upload(Bucket="pcopy", Key="half", UploadId=up, MultipartUpload={
    "Parts": [{"PartNumber": 1, "ETag": part["CopyPartResult"]["ETag"]}]})
PY
"$ROAR" run -q python3 half.py "$MOTO_URL"
half=$(show_json @3 | jq -c '.inputs[] | select(.path == "s3://pcopy/big")')
[[ -n "$half" ]] || fail "the partly copied source is not an input: $(show_json @3 | jq -c .inputs)"
assert_eq "$(jq -r '.hashes.etag' <<<"$half")" "$src_etag" "the partly copied source's ETag"
assert_eq "$(jq -r '.size' <<<"$half")" "$size" "the partly copied source's size"
check "parts that copy only part of the source make it an input read partially"
assert_eq "$(jq -c '.notes' <<<"$half")" '["read partially (copied in parts that do not cover the whole object)"]' \
  "the partly copied source's note"
echo ok
