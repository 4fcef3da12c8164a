#!/usr/bin/env bash
# The demo pipeline: raw data fetched from S3, three Python steps, the model
# published back to S3, all under `roar run`; then what roar can tell about
# the result. A local S3-compatible server (moto, loopback only) stands in
# for AWS as roar-proxy's upstream.
# Usage: run-demo.sh PATH/TO/roar [WORKDIR]
set -euo pipefail
roar=$(realpath "${1:?usage: run-demo.sh PATH/TO/roar [WORKDIR]}")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=${2:-$(mktemp -d /tmp/roar-demo.XXXXXX)}
mkdir -p "$work"
cp "$here"/*.py "$work"/
cd "$work"
py=$(python3 -c 'import sys; print(sys.executable)')

show() { printf '\n$ %s\n' "$*" | sed "s#$roar#roar#; s#$py#python3#g"; "$@"; }

# The local S3 server, on a free loopback port, stopped on exit.
command -v moto_server >/dev/null || { echo "run-demo: moto_server (the machine's python3) is needed" >&2; exit 1; }
port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
moto_server -H 127.0.0.1 -p "$port" >"$work/s3-server.log" 2>&1 &
s3_pid=$!
trap 'kill $s3_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo-secret AWS_DEFAULT_REGION=us-east-1
# The pipeline's scripts talk to this S3 server as they would without roar
# (how teams point boto3 at MinIO); `roar run` leaves the variable alone and
# its shim routes those connections through the job's proxy.
unset AWS_ENDPOINT_URL
export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$port

echo "Demo project: $work (S3 server on 127.0.0.1:$port)"
# Raw data lands in the bucket from outside roar, as it would in real life.
"$py" make_raw.py raw-source.csv
"$py" - <<'PY'
import boto3
s3 = boto3.client("s3")
for bucket in ("demo-data", "demo-models"):
    s3.create_bucket(Bucket=bucket)
s3.upload_file("raw-source.csv", "demo-data", "raw.csv")
PY
rm raw-source.csv

show "$roar" init
show "$roar" proxy enable
show "$roar" config set proxy.upstream_endpoint "http://127.0.0.1:$port"
show "$roar" run python3 s3copy.py s3://demo-data/raw.csv raw.csv
show "$roar" run python3 prepare.py raw.csv features.csv
show "$roar" run python3 train.py features.csv model.json --epochs 300
show "$roar" run python3 evaluate.py model.json features.csv metrics.json
show "$roar" run python3 s3copy.py model.json s3://demo-models/model.json
show "$roar" log
if "$roar" dag --help >/dev/null 2>&1; then
  show "$roar" dag
fi
show "$roar" show model.json
show "$roar" show s3://demo-models/model.json
echo
echo "Done. Explore further with: cd $work && roar show --json @3"
