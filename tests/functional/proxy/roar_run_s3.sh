# `roar run python3 script.py` with proxy.enabled: the job's S3 reads and
# writes (boto3 with its own endpoint_url to moto; the shim routes those
# connections to the job's proxy, roar sets no endpoint variable) show up in `roar show --json` as inputs and outputs with the ETag
# the upstream returned (moto, SigV4 checked) and, for whole bodies, the
# BLAKE3 of the bytes. A second job reading the first one's output is
# linked to it, and its run report names the process of the S3 call. A
# job that copies that output (CopyObject) has it as an input with its
# ETag, linked to the job that wrote it; a job that reads only the start
# of an object and closes the stream has it as an input all the same (ETag
# and size, a note, no BLAKE3). Also: the proxy is gone after the job.
source "$(dirname "$0")/lib_s3.sh"
need b3sum
"$ROAR" proxy --help >/dev/null 2>&1 || skip "'roar proxy' is not wired into the CLI yet"
start_moto
export ROAR_UPSTREAM_S3_ENDPOINT=$MOTO_URL
new_project
"$ROAR" proxy enable >/dev/null
assert_eq "$("$ROAR" config get proxy.enabled)" true "proxy.enabled"

head -c 300000 /dev/urandom >"$TEST_TMP/input.bin"
in_etag=$(python3 - "$MOTO_URL" "$TEST_TMP/input.bin" <<'PY'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1])
s3.create_bucket(Bucket="lineage")
print(s3.put_object(Bucket="lineage", Key="raw/input.bin", Body=open(sys.argv[2], "rb").read())["ETag"])
PY
)
cat >train.py <<'PY'
import os, sys, boto3
assert "AWS_ENDPOINT_URL_S3" not in os.environ and "AWS_ENDPOINT_URL" not in os.environ, os.environ
assert os.environ["ROAR_S3_PROXY"].startswith("127.0.0.1:"), os.environ.get("ROAR_S3_PROXY")
s3 = boto3.client("s3", endpoint_url=sys.argv[1])
data = s3.get_object(Bucket="lineage", Key="raw/input.bin")["Body"].read()
model = bytes(reversed(data))
open("model.local", "wb").write(model)
s3.put_object(Bucket="lineage", Key="ckpt/model.bin", Body=model)
PY
"$ROAR" run -q python3 train.py "$MOTO_URL"
j=$(show_json @1)
s3_in=$(jq -c '.inputs[] | select(.path == "s3://lineage/raw/input.bin")' <<<"$j")
s3_out=$(jq -c '.outputs[] | select(.path == "s3://lineage/ckpt/model.bin")' <<<"$j")
[[ -n "$s3_in" ]] || fail "S3 input missing: $(jq -c .inputs <<<"$j")"
[[ -n "$s3_out" ]] || fail "S3 output missing: $(jq -c .outputs <<<"$j")"
assert_eq "$(jq -r '.hashes.etag' <<<"$s3_in")" "$in_etag" "input ETag"
assert_eq "$(jq -r '.hashes.blake3' <<<"$s3_in")" "$(b3 "$TEST_TMP/input.bin")" "input BLAKE3"
assert_eq "$(jq -r '.size' <<<"$s3_in")" 300000 "input size"
out_etag=$(python3 -c 'import sys,boto3; print(boto3.client("s3", endpoint_url=sys.argv[1]).head_object(
  Bucket="lineage", Key="ckpt/model.bin")["ETag"])' "$MOTO_URL")
assert_eq "$(jq -r '.hashes.etag' <<<"$s3_out")" "$out_etag" "output ETag"
assert_eq "$(jq -r '.hashes.blake3' <<<"$s3_out")" "$(b3 model.local)" "output BLAKE3"
# No proxy left behind; its log is in .roar/.
# (Only this project's: other tests run their own job proxies in parallel.)
pgrep -f "roar-proxy.*--ring.*--log-file $PROJECT/" >/dev/null && fail "a job-scoped roar-proxy is still running"

# A later job reading the checkpoint is linked to the job that wrote it.
cat >eval.py <<'PY'
import sys, boto3
boto3.client("s3", endpoint_url=sys.argv[1]).get_object(Bucket="lineage", Key="ckpt/model.bin")["Body"].read()
PY
"$ROAR" run python3 eval.py "$MOTO_URL" 2>report.txt
j2=$(show_json @2)
check "the run report names the process that made each S3 call"
s3_pid=$(jq -r '.inputs[] | select(.path == "s3://lineage/ckpt/model.bin") | .pid' <<<"$j2")
[[ $s3_pid =~ ^[0-9]+$ ]] || fail "the S3 input has no pid: $(jq -c .inputs <<<"$j2")"
line=$(grep -F 's3://lineage/ckpt/model.bin' report.txt)
# (python3 may be reached through wrapper scripts that exec it: "env>+5>python3".)
[[ $line == *"pid $s3_pid "*python3 ]] || fail "the S3 input's report line names no 'pid $s3_pid ...python3': $line"
assert_eq "$(jq -r '.inputs[] | select(.path == "s3://lineage/ckpt/model.bin") | .hashes.etag' <<<"$j2")" \
  "$out_etag" "second job's input ETag"

check "a CopyObject's source is an input with its ETag, linked to the job that wrote it"
cat >duplicate.py <<'PY'
import sys, boto3
boto3.client("s3", endpoint_url=sys.argv[1]).copy_object(
    Bucket="lineage", Key="ckpt/copy.bin", CopySource={"Bucket": "lineage", "Key": "ckpt/model.bin"})
PY
"$ROAR" run -q python3 duplicate.py "$MOTO_URL"
j3=$(show_json @3)
copied=$(jq -c '.inputs[] | select(.path == "s3://lineage/ckpt/model.bin")' <<<"$j3")
[[ -n "$copied" ]] || fail "the copy's source is not an input: $(jq -c .inputs <<<"$j3")"
assert_eq "$(jq -r '.hashes.etag' <<<"$copied")" "$out_etag" "the copy source's ETag"
assert_contains "$(jq -c '.notes // []' <<<"$copied")" "the source's own only if it was uploaded in one piece" \
  "the copy source's note: its ETag is the copy's"
producer=$("$ROAR" show --lineage --json s3://lineage/ckpt/copy.bin |
  jq -r '.lineage.jobs[] | select(.step == 3) | .inputs[] | select(.path == "s3://lineage/ckpt/model.bin")
         | .producer_job')
assert_eq "$producer" "$(jq -r .job_id <<<"$j")" "the job that wrote the copy's source"

check "an object read in part (the stream closed early) is an input with its ETag and size, a note and no BLAKE3"
python3 - "$MOTO_URL" <<'PY'
import sys, boto3
boto3.client("s3", endpoint_url=sys.argv[1]).put_object(Bucket="lineage", Key="raw/big.bin", Body=b"x" * (11 << 20))
PY
cat >peek.py <<'PY'
import sys, boto3
body = boto3.client("s3", endpoint_url=sys.argv[1]).get_object(Bucket="lineage", Key="raw/big.bin")["Body"]
head = body.read(1000)
body.close()
open("head.txt", "wb").write(head)
PY
"$ROAR" run -q python3 peek.py "$MOTO_URL"
peeked=$(show_json @4 | jq -c '.inputs[] | select(.path == "s3://lineage/raw/big.bin")')
[[ -n "$peeked" ]] || fail "the object read in part is not an input: $(show_json @4 | jq -c .inputs)"
big_etag=$(python3 -c 'import sys,boto3; print(boto3.client("s3", endpoint_url=sys.argv[1]).head_object(
  Bucket="lineage", Key="raw/big.bin")["ETag"])' "$MOTO_URL")
assert_eq "$(jq -r '.hashes.etag' <<<"$peeked")" "$big_etag" "the partial read's ETag"
assert_eq "$(jq -r '.size' <<<"$peeked")" $((11 << 20)) "the partial read's size"
assert_eq "$(jq -r '.hashes.blake3 // "none"' <<<"$peeked")" none "the partial read's BLAKE3"
assert_eq "$(jq -c '.notes' <<<"$peeked")" '["read partially (the transfer stopped before the end of the object)"]' \
  "the partial read's note"
echo ok
