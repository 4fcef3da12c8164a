# The fixture phase 2 builds on: lib_backends.sh starts moto with auth,
# moto and s3rver on free loopback ports with their buckets, writes their
# [[backend]] tables for gateway.toml, and stops them (one on demand).
source "$(dirname "$0")/lib_backends.sh"
start_backends

check "the three backends answer with their buckets created"
AWS_ACCESS_KEY_ID=$GW_A_KEY AWS_SECRET_ACCESS_KEY=$GW_A_SECRET python3 - "$GW_A_URL" store-a <<'PY'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1")
assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == [sys.argv[2]]
PY
for v in B C; do
  url=GW_${v}_URL key=GW_${v}_KEY secret=GW_${v}_SECRET
  AWS_ACCESS_KEY_ID=${!key} AWS_SECRET_ACCESS_KEY=${!secret} python3 - "${!url}" "store-$(tr 'BC' 'bc' <<<"$v")" <<'PY'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1")
s3.head_bucket(Bucket=sys.argv[2])
PY
done

check "backend A checks signatures: a made-up key is refused"
set +e
AWS_ACCESS_KEY_ID=AKIAMADEUP AWS_SECRET_ACCESS_KEY=nothing python3 - "$GW_A_URL" <<'PY' 2>/dev/null
import sys, boto3
boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1").list_objects_v2(Bucket="store-a")
PY
rc=$?
set -e
assert_ne "$rc" 0 "unsigned-by-a-real-key listing on A"

check "the [[backend]] tables parse as a gateway configuration"
{
  echo 'listen = "127.0.0.1:0"'
  echo '[auth]'
  echo 'access_key = "AKIAGATEWAYTEST"'
  echo 'secret_key_env = "GW_A_SECRET"'
  echo '[metadata]'
  echo "url = \"sqlite://$TEST_TMP/gw.db\""
  backends_toml 1048576 2097152 ""
} >"$TEST_TMP/gateway.toml"
parsed=$("$BACKEND_TOOL" config "$TEST_TMP/gateway.toml")
assert_eq "$parsed" "backend a $GW_A_URL store-a 1048576 eu-fi
backend b $GW_B_URL store-b 2097152 eu-de
backend c $GW_C_URL store-c unlimited us-east" "backends read by the gateway library"
assert_not_contains "$(cat "$TEST_TMP/gateway.toml")" "$GW_A_SECRET" "no secret in the file"

check "stop_backend stops exactly one backend"
stop_backend C
wait_port "${GW_C_URL##*:}" 1 && fail "C still listens"
wait_port "${GW_B_URL##*:}" 1 || fail "B stopped too"
echo "backends fixture ok"
