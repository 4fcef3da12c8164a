# A roar job's proxy with the gateway as its upstream
# (proxy.upstream_endpoint = the gateway): the job's boto3 writes and reads
# through its own proxy, which re-signs for the gateway, and the gateway
# places the objects on its backends (two moto servers, A checking SigV4).
# The job's S3 lineage (roar show --json) records each object with the
# ETag the gateway answered and the BLAKE3 of the bytes, and the gateway's
# metadata and backends hold exactly those bytes where its placement put
# them: first-fit on a until its quota is full, then b.
source "$(dirname "$0")/lib_gateway.sh"
need jq b3sum
"$ROAR" proxy --help >/dev/null 2>&1 || skip "'roar proxy' is not wired into the CLI"
start_backend_a
start_backend_b

new_gateway_url
cat >"$TEST_TMP/gw.toml" <<EOF
$(gateway_toml_head "$GW_PORT" "sqlite://$TEST_TMP/gw.db")
$(backends_toml 1048576 67108864 "")
$(data_bucket_toml)
EOF
start_gateway gateway "$TEST_TMP/gw.toml"

# The job signs with the gateway's static key; its proxy verifies and
# re-signs with the same key for the upstream, the gateway.
export AWS_ACCESS_KEY_ID=AKIAGATEWAYTEST AWS_SECRET_ACCESS_KEY=$GW_SECRET
unset ROAR_UPSTREAM_S3_ENDPOINT
new_project
"$ROAR" proxy enable >/dev/null
"$ROAR" config set proxy.upstream_endpoint "$GW_URL" >/dev/null

head -c 700000 /dev/urandom >"$TEST_TMP/input.bin"
python3 - "$GW_URL" "$TEST_TMP/input.bin" <<'PY'
import sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], config=Config(s3={"addressing_style": "path"}))
s3.put_object(Bucket="data", Key="raw/input.bin", Body=open(sys.argv[2], "rb").read())
PY
cat >train.py <<'PY'
import os, sys, boto3
from botocore.config import Config
assert os.environ["ROAR_S3_PROXY"].startswith("127.0.0.1:"), os.environ.get("ROAR_S3_PROXY")
s3 = boto3.client("s3", endpoint_url=sys.argv[1], config=Config(s3={"addressing_style": "path"}))
data = s3.get_object(Bucket="data", Key="raw/input.bin")["Body"].read()
model = bytes(reversed(data))[:500000]
open("model.local", "wb").write(model)
s3.put_object(Bucket="data", Key="ckpt/model.bin", Body=model)
PY

check "a job whose proxy's upstream is the gateway runs and its S3 calls reach the gateway"
"$ROAR" run -q python3 train.py "$GW_URL"
j=$(show_json @1)
# recorded inputs|outputs PATH: the job's record of PATH.
recorded() { jq -c --arg p "$2" ".$1[] | select(.path == \$p)" <<<"$j"; }
s3_in=$(recorded inputs s3://data/raw/input.bin)
s3_out=$(recorded outputs s3://data/ckpt/model.bin)
[[ -n "$s3_in" && -n "$s3_out" ]] || fail "S3 input or output missing: $(jq -c '[.inputs, .outputs]' <<<"$j")"
grep -q "op=PutObject method=PUT bucket=data key=ckpt/model.bin status=200" "$TEST_TMP/gateway.log" ||
  fail "the gateway did not serve the job's PutObject"

check "the job's lineage records the objects with the gateway's ETags and the BLAKE3 of the bytes"
assert_eq "$(jq -r '.hashes.blake3' <<<"$s3_in")" "$(b3 "$TEST_TMP/input.bin")" "input BLAKE3"
assert_eq "$(jq -r '.size' <<<"$s3_in")" 700000 "input size"
assert_eq "$(jq -r '.hashes.blake3' <<<"$s3_out")" "$(b3 model.local)" "output BLAKE3"
assert_eq "$(jq -r '.size' <<<"$s3_out")" 500000 "output size"
gw_etags=$(static <<PY
$PYHEAD
print(gw.head_object(Bucket="data", Key="raw/input.bin")["ETag"], gw.head_object(Bucket="data", Key="ckpt/model.bin")["ETag"])
PY
)
assert_eq "$(jq -r '.hashes.etag' <<<"$s3_in") $(jq -r '.hashes.etag' <<<"$s3_out")" "$gw_etags" "ETags the gateway answers"

check "the gateway placed the job's output by its policy and holds exactly those bytes"
# a (1 MiB quota) holds the 700 000-byte input; the 500 000-byte output
# does not fit there any more and goes to b.
static "$PWD/model.local" <<PY
$PYHEAD
assert len(keys(a, "store-a", "data/raw/input.bin~")) == 1, keys(a, "store-a", "data/")
assert keys(a, "store-a", "data/ckpt/") == [], keys(a, "store-a", "data/ckpt/")
on_b = keys(b, "store-b", "data/ckpt/model.bin~")
assert len(on_b) == 1, on_b
assert b.get_object(Bucket="store-b", Key=on_b[0])["Body"].read() == open(sys.argv[1], "rb").read(), "bytes on b"
PY
used=$("$PROXY" admin backends status | jq -c '[.backends[] | .used_bytes]')
assert_eq "$used" "[700000,500000]" "quota used on a and b"
echo "job through the gateway ok"
