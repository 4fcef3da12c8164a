# `roar run` with proxy.enabled routes the job's S3 connections through
# the shim to its proxy (issue 17), with no endpoint variable set: boto3
# with a hard-coded endpoint_url, aws CLI v2 with --endpoint-url and s3cmd
# with its own host configuration all reach auth-enforcing moto with their
# own signatures, and their reads and writes are recorded with moto's ETag
# and the BLAKE3 of the bytes. The same job's STS GetCallerIdentity (also
# on moto, so also routed, and forwarded untouched) succeeds, and a second
# key pair works. A user-set AWS_ENDPOINT_URL_S3 is left as it is and its
# host is routed (the proxy forwarding to the original destination).
# Each S3 entry names the process that made the call (attribution): the
# python3 subprocess of the job's bash, the aws CLI, s3cmd.
source "$(dirname "$0")/lib_s3.sh"
need b3sum
need s3cmd
[[ -x /usr/bin/aws ]] || skip "aws CLI v2 (/usr/bin/aws) is not installed"
start_moto
moto_port=${MOTO_URL##*:}
read -r key2 secret2 < <(python3 - "$MOTO_URL" <<'PY'
import json, sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1")
iam.create_user(UserName="second")
key = iam.create_access_key(UserName="second")["AccessKey"]
iam.put_user_policy(UserName="second", PolicyName="all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
print(key["AccessKeyId"], key["SecretAccessKey"])
PY
)
head -c 300000 /dev/urandom >"$TEST_TMP/input.bin"
python3 - "$MOTO_URL" "$TEST_TMP/input.bin" <<'PY'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1])
s3.create_bucket(Bucket="lineage")
s3.put_object(Bucket="lineage", Key="raw/input.bin", Body=open(sys.argv[2], "rb").read())
PY

export ROAR_UPSTREAM_S3_ENDPOINT=$MOTO_URL
new_project
"$ROAR" proxy enable >/dev/null
cat >job.py <<'PY'
import json, os, sys, boto3
moto, key2, secret2 = sys.argv[1:4]
assert "AWS_ENDPOINT_URL_S3" not in os.environ and "AWS_ENDPOINT_URL" not in os.environ, "roar set an endpoint"
s3 = boto3.client("s3", endpoint_url=moto)
data = s3.get_object(Bucket="lineage", Key="raw/input.bin")["Body"].read()
open("model.local", "wb").write(bytes(reversed(data)))
s3.put_object(Bucket="lineage", Key="ckpt/model.bin", Body=bytes(reversed(data)))
account = boto3.client("sts", endpoint_url=moto).get_caller_identity()["Account"]
other = boto3.client("s3", endpoint_url=moto, aws_access_key_id=key2, aws_secret_access_key=secret2)
other.put_object(Bucket="lineage", Key="second/key.txt", Body=b"second key pair")
json.dump({"account": account, "pid": os.getpid()}, open("job.json", "w"))
PY
printf 'second key pair' >second.local
echo "cli bytes" >cli.local
echo "s3cmd bytes" >s3cmd.local
cat >s3cfg <<EOF
[default]
access_key = $AWS_ACCESS_KEY_ID
secret_key = $AWS_SECRET_ACCESS_KEY
host_base = 127.0.0.1:$moto_port
host_bucket = 127.0.0.1:$moto_port
use_https = False
bucket_location = us-east-1
progress_meter = False
EOF
cat >job.sh <<EOF
set -e
python3 job.py "$MOTO_URL" "$key2" "$secret2"
/usr/bin/aws --endpoint-url "$MOTO_URL" s3 cp cli.local s3://lineage/cli/up.txt
/usr/bin/aws --endpoint-url "$MOTO_URL" s3 cp s3://lineage/raw/input.bin cli-input.bin
s3cmd --config s3cfg put s3cmd.local s3://lineage/s3cmd/up.txt
EOF
"$ROAR" run -q bash job.sh
j=$(show_json @1)
entry() { jq -c --arg p "$2" ".$1[] | select(.path == \$p)" <<<"$j"; }

check "boto3 with a hard-coded endpoint_url: its read and write are recorded with moto's ETag and the BLAKE3"
in_entry=$(entry inputs s3://lineage/raw/input.bin)
[[ -n $in_entry ]] || fail "S3 input missing: $(jq -c .inputs <<<"$j")"
assert_eq "$(jq -r .hashes.blake3 <<<"$in_entry")" "$(b3 "$TEST_TMP/input.bin")" "input BLAKE3"
out_entry=$(entry outputs s3://lineage/ckpt/model.bin)
[[ -n $out_entry ]] || fail "S3 output missing: $(jq -c .outputs <<<"$j")"
assert_eq "$(jq -r .hashes.blake3 <<<"$out_entry")" "$(b3 model.local)" "output BLAKE3"
out_etag=$(python3 -c 'import sys,boto3; print(boto3.client("s3", endpoint_url=sys.argv[1]).head_object(
  Bucket="lineage", Key="ckpt/model.bin")["ETag"])' "$MOTO_URL")
assert_eq "$(jq -r .hashes.etag <<<"$out_entry")" "$out_etag" "output ETag"

check "STS GetCallerIdentity in the same job succeeded"
[[ "$(jq -r .account job.json)" =~ ^[0-9]{12}$ ]] || fail "GetCallerIdentity: $(cat job.json)"

check "a second key pair in the same job works, and its write is recorded"
assert_eq "$(entry outputs s3://lineage/second/key.txt | jq -r .hashes.blake3)" "$(b3 second.local)" \
  "second key pair's output BLAKE3"

check "aws CLI v2 with --endpoint-url: its write and read are recorded"
assert_eq "$(entry outputs s3://lineage/cli/up.txt | jq -r .hashes.blake3)" "$(b3 cli.local)" "aws cp upload"
[[ -n "$(jq -c '[.inputs[] | select(.path == "s3://lineage/raw/input.bin")]' <<<"$j")" ]] || fail "aws cp download"
cmp cli-input.bin "$TEST_TMP/input.bin"

check "s3cmd with its own host configuration: its write is recorded"
assert_eq "$(entry outputs s3://lineage/s3cmd/up.txt | jq -r .hashes.blake3)" "$(b3 s3cmd.local)" "s3cmd put"

check "each S3 entry names the process that made the call, the job's python3 subprocess among them"
pypid=$(jq -r .pid job.json)
root=$(jq -r '.processes[0].pid' <<<"$j")
assert_ne "$pypid" "$root" "job.py's pid against the job's bash"
assert_eq "$(entry inputs s3://lineage/raw/input.bin | jq -r .pid)" "$pypid" "the S3 input's pid (job.py read it first)"
assert_eq "$(entry outputs s3://lineage/ckpt/model.bin | jq -r .pid)" "$pypid" "the S3 output's pid"
assert_eq "$(entry outputs s3://lineage/second/key.txt | jq -r .pid)" "$pypid" "the second key pair's output's pid"
# caller_runs LIST PATH WORD: the entry's pid is a process of the job whose command line holds WORD.
caller_runs() {
  local pid
  pid=$(entry "$1" "$2" | jq -r .pid)
  [[ $pid =~ ^[0-9]+$ ]] || fail "$2 has no pid: $(entry "$1" "$2")"
  jq -e --argjson p "$pid" --arg w "$3" '[.processes[] | select(.pid == $p and (.argv | join(" ") | contains($w)))]
    | length > 0' <<<"$j" >/dev/null || fail "pid $pid of $2 does not run $3: $(jq -c .processes <<<"$j")"
  assert_ne "$pid" "$pypid" "$2's pid against job.py's"
}
caller_runs outputs s3://lineage/cli/up.txt aws
caller_runs outputs s3://lineage/s3cmd/up.txt s3cmd
text=$("$ROAR" show @1)
line=$(grep -F s3://lineage/ckpt/model.bin <<<"$text")
assert_contains "$line" "pid $pypid python" "the text view's S3 line"
assert_contains "$line" " job.py" "the text view's S3 line"

check "no note about unobserved S3 traffic"
assert_eq "$(jq -r '.notes // [] | map(select(test("S3 .*not observed"))) | length' <<<"$j")" 0 "notes"

check "a user-set AWS_ENDPOINT_URL_S3 is left as it is, and its host is routed"
unset ROAR_UPSTREAM_S3_ENDPOINT
new_project user-endpoint
"$ROAR" proxy enable >/dev/null
cat >user_endpoint.py <<'PY'
import os, sys, boto3
assert os.environ["AWS_ENDPOINT_URL_S3"] == sys.argv[1], os.environ.get("AWS_ENDPOINT_URL_S3")
assert "AWS_ENDPOINT_URL" not in os.environ
s3 = boto3.client("s3")
s3.get_object(Bucket="lineage", Key="ckpt/model.bin")["Body"].read()
s3.put_object(Bucket="lineage", Key="user/endpoint.txt", Body=b"user endpoint")
PY
printf 'user endpoint' >user.local
AWS_ENDPOINT_URL_S3=$MOTO_URL "$ROAR" run -q python3 user_endpoint.py "$MOTO_URL"
j=$(show_json @1)
assert_eq "$(entry inputs s3://lineage/ckpt/model.bin | jq -r .hashes.etag)" "$out_etag" "input via the user's endpoint"
assert_eq "$(entry outputs s3://lineage/user/endpoint.txt | jq -r .hashes.blake3)" "$(b3 user.local)" \
  "output via the user's endpoint"
echo ok
