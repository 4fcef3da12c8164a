#!/usr/bin/env bash
# Two checkouts standing in for two machines (ROAR_HOST alpha and beta)
# share one PostgreSQL store and one S3 server (moto): a job on alpha
# uploads an object, a job on beta downloads it and writes a result. The
# object links the two jobs: beta's result has alpha's job upstream, and
# `roar show` of the object names its producer on the other host.
source "$(dirname "$0")/../proxy/lib_s3.sh"
start_postgres
start_moto
export ROAR_UPSTREAM_S3_ENDPOINT=$MOTO_URL
"$PYTHON" - "$MOTO_URL" <<'PY'
import sys, boto3
boto3.client("s3", endpoint_url=sys.argv[1]).create_bucket(Bucket="shared")
PY
for h in alpha beta; do
  mkdir -p "$TEST_TMP/$h"
  (cd "$TEST_TMP/$h" && "$ROAR" init --store "$PG_URL" --join team >/dev/null && "$ROAR" proxy enable >/dev/null)
done
# Each job names the S3 server itself, as jobs do; the shim routes it.
cat >"$TEST_TMP/upload.py" <<'PY'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1])
s3.put_object(Bucket="shared", Key="features/part-0.bin", Body=open(sys.argv[2], "rb").read())
PY
cat >"$TEST_TMP/train.py" <<'PY'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1])
data = s3.get_object(Bucket="shared", Key="features/part-0.bin")["Body"].read()
open("model.bin", "wb").write(data[::-1])
PY

cd "$TEST_TMP/alpha"
head -c 20000 /dev/urandom >features.bin
ROAR_HOST=alpha "$ROAR" run -q "$PYTHON" "$TEST_TMP/upload.py" "$MOTO_URL" features.bin
alpha_job=$("$ROAR" log --json | jq -r '.[-1].job_id')

cd "$TEST_TMP/beta"
ROAR_HOST=beta "$ROAR" run -q "$PYTHON" "$TEST_TMP/train.py" "$MOTO_URL"
beta_job=$("$ROAR" log --json | jq -r '.[-1].job_id')

check "each host recorded its side of the object with the same BLAKE3"
alpha_out=$(cd "$TEST_TMP/alpha" && "$ROAR" show --json "$alpha_job" |
  jq -r '.outputs[] | select(.path == "s3://shared/features/part-0.bin") | .hashes.blake3')
beta_in=$("$ROAR" show --json "$beta_job" |
  jq -r '.inputs[] | select(.path == "s3://shared/features/part-0.bin") | .hashes.blake3')
assert_eq "$alpha_out" "$(b3 "$TEST_TMP/alpha/features.bin")" "BLAKE3 of the upload on alpha"
assert_eq "$beta_in" "$alpha_out" "BLAKE3 of the download on beta"

check "the job on beta has the job on alpha upstream, through the object"
lineage=$("$ROAR" show --json --lineage model.bin)
assert_contains "$(jq -c '[.lineage.jobs[].job_id]' <<<"$lineage")" "$alpha_job" "upstream of model.bin"
assert_eq "$(jq -r '.produced_by[0].job_id' <<<"$lineage")" "$beta_job" "producer of model.bin"
assert_eq "$("$ROAR" log --json | jq -r --arg j "$alpha_job" '.[] | select(.job_id == $j) | .host')" \
  alpha "host of the upstream job, seen from beta"

check "roar show of the object on beta names its producer on alpha"
obj=$("$ROAR" show --json s3://shared/features/part-0.bin)
assert_contains "$(jq -c '[.. | objects | select(has("job_id")) | .job_id]' <<<"$obj")" "$alpha_job" "producer of the object"

check "roar dag on either host shows both steps with their hosts"
dag=$(cd "$TEST_TMP/alpha" && "$ROAR" dag)
assert_contains "$dag" "[alpha]" "dag on alpha"
assert_contains "$dag" "[beta]" "dag on alpha"
echo ok
