# S3 objects a job read and wrote through roar's proxy (moto upstream) are
# exported as datasets in namespace s3://BUCKET named by their key, with
# their BLAKE3, size and ETag; the events stay schema-valid.
source "$(dirname "$0")/../proxy/lib_s3.sh"
. "$(dirname "$0")/lib_export.bash"
start_moto
export ROAR_UPSTREAM_S3_ENDPOINT=$MOTO_URL
new_project
"$ROAR" proxy enable >/dev/null
head -c 5000 /dev/urandom >"$TEST_TMP/input.bin"
"$PY" - "$MOTO_URL" "$TEST_TMP/input.bin" <<'PY'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1])
s3.create_bucket(Bucket="lineage")
s3.put_object(Bucket="lineage", Key="raw/input.bin", Body=open(sys.argv[2], "rb").read())
PY
# The job names its S3 server itself, as jobs do (roar sets no endpoint
# variable; its shim routes the connections through the job's proxy).
cat >train.py <<'PY'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1])
data = s3.get_object(Bucket="lineage", Key="raw/input.bin")["Body"].read()
open("model.local", "wb").write(data[::-1])
s3.put_object(Bucket="lineage", Key="ckpt/model.bin", Body=data[::-1])
PY
"$ROAR" run -q "$PY" train.py "$MOTO_URL"
"$ROAR" export --format openlineage >events.jsonl

check "the events are valid OpenLineage"
validate events.jsonl

check "S3 objects are datasets in s3://BUCKET named by key, with BLAKE3, size and ETag"
done_event=$(sed -n 2p events.jsonl)
s3_in=$(jq -c '.inputs[] | select(.namespace == "s3://lineage")' <<<"$done_event")
s3_out=$(jq -c '.outputs[] | select(.namespace == "s3://lineage")' <<<"$done_event")
assert_eq "$(jq -r .name <<<"$s3_in")" raw/input.bin "input key"
assert_eq "$(jq -r .facets.roar_content.blake3 <<<"$s3_in")" "$(b3 "$TEST_TMP/input.bin")" "input BLAKE3"
assert_eq "$(jq -r .facets.roar_content.size <<<"$s3_in")" 5000 "input size"
assert_eq "$(jq -r .name <<<"$s3_out")" ckpt/model.bin "output key"
assert_eq "$(jq -r .facets.roar_content.blake3 <<<"$s3_out")" "$(b3 model.local)" "output BLAKE3"
etag=$(show_json @1 | jq -r '.outputs[] | select(.path == "s3://lineage/ckpt/model.bin") | .hashes.etag')
assert_eq "$(jq -r .facets.roar_content.s3ETag <<<"$s3_out")" "$etag" "output ETag"
echo ok
