# Two gateways (roar-proxy --gateway) sharing one PostgreSQL metadata
# database in front of one small-quota backend (moto on loopback): PUTs
# racing through both until the quota is exhausted never place more than
# the quota (every refused PUT is 507 InsufficientStorage and leaves
# nothing on the backend), and an object written through one gateway is
# listed and read through the other.
source "$(dirname "$0")/lib_gateway.sh"
need jq
start_postgres
start_backend_b

QUOTA=1000100 # 25 objects of SIZE, and room for the small one written at the end
SIZE=40000
# gateway_toml PORT: one gateway's configuration; both share $PG_URL.
gateway_toml() {
  gateway_toml_head "$1" "$PG_URL"
  cat <<TOML
$(backends_toml "" $QUOTA "")
[[bucket]]
name = "data"
backends = ["b"]
key_prefix = "data/"
TOML
}
PORT_A=$(free_port)
gateway_toml "$PORT_A" >"$TEST_TMP/gw-a.toml"
start_gateway gateway-a "$TEST_TMP/gw-a.toml"
PORT_B=$(free_port)
gateway_toml "$PORT_B" >"$TEST_TMP/gw-b.toml"
start_gateway gateway-b "$TEST_TMP/gw-b.toml"
export GW_URL_A=http://127.0.0.1:$PORT_A GW_URL_B=http://127.0.0.1:$PORT_B

check "both gateways keep their metadata in the shared PostgreSQL schema"
assert_eq "$(pg -tAc "SELECT value FROM gateway_metadata.gw_settings WHERE name = 'schema_version'")" 6 "schema version"
assert_eq "$(pg -tAc "SELECT quota_bytes FROM gateway_metadata.gw_backends WHERE name = 'b'")" $QUOTA "quota row"

check "PUTs racing through two gateways never place more than the quota, and every refusal is 507"
AWS_ACCESS_KEY_ID=AKIAGATEWAYTEST AWS_SECRET_ACCESS_KEY=$GW_SECRET python3 - $SIZE >"$TEST_TMP/race.txt" <<'PY'
import os, sys, threading, boto3, botocore
from botocore.config import Config
size = int(sys.argv[1])
cfg = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}, max_pool_connections=16)
clients = [boto3.client("s3", endpoint_url=os.environ[u], region_name="us-east-1", config=cfg) for u in ("GW_URL_A", "GW_URL_B")]
results, lock = [], threading.Lock()
def writer(n):
    gw = clients[n % 2]
    for i in range(5):
        key = "race/w%02d-%d" % (n, i)
        try:
            gw.put_object(Bucket="data", Key=key, Body=os.urandom(size))
            outcome = "ok"
        except botocore.exceptions.ClientError as e:
            outcome = "%s %s" % (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"])
        with lock:
            results.append((key, outcome))
threads = [threading.Thread(target=writer, args=(n,)) for n in range(16)]
for t in threads: t.start()
for t in threads: t.join()
for key, outcome in sorted(results):
    print(key, outcome)
PY
attempts=$(wc -l <"$TEST_TMP/race.txt")
placed=$(grep -c ' ok$' "$TEST_TMP/race.txt" || true)
refused=$(grep -c ' 507 InsufficientStorage$' "$TEST_TMP/race.txt" || true)
echo "attempts=$attempts placed=$placed refused=$refused (quota $QUOTA, $SIZE bytes each)"
assert_eq "$attempts" 80 "PUTs attempted"
assert_eq "$((placed + refused))" 80 "every PUT either placed or refused with 507 (others: $(grep -v -e ' ok$' -e ' 507 InsufficientStorage$' "$TEST_TMP/race.txt" | head -3))"
assert_eq "$placed" $((QUOTA / SIZE)) "PUTs placed (the quota holds exactly this many)"
status=$(ROAR_GATEWAY_URL=$GW_URL_B "$PROXY" admin backends status)
assert_eq "$(jq '.backends[] | select(.name == "b") | .used_bytes' <<<"$status")" $((placed * SIZE)) "used bytes"
assert_eq "$(jq '.backends[] | select(.name == "b") | .reserved_bytes' <<<"$status")" 0 "reserved bytes"
on_backend=$(backend_tool B list store-b 2>/dev/null | grep -c "^data/race/" || true)
assert_eq "$on_backend" "$placed" "objects on the backend (a refused PUT writes nothing)"

check "an object written through gateway A is listed and read through gateway B"
AWS_ACCESS_KEY_ID=AKIAGATEWAYTEST AWS_SECRET_ACCESS_KEY=$GW_SECRET python3 - <<'PY'
import os, boto3
from botocore.config import Config
cfg = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"})
a = boto3.client("s3", endpoint_url=os.environ["GW_URL_A"], region_name="us-east-1", config=cfg)
b = boto3.client("s3", endpoint_url=os.environ["GW_URL_B"], region_name="us-east-1", config=cfg)
a.put_object(Bucket="data", Key="shared/hello.txt", Body=b"written through A")
listed = [o["Key"] for o in b.list_objects_v2(Bucket="data", Prefix="shared/").get("Contents", [])]
assert listed == ["shared/hello.txt"], listed
assert b.get_object(Bucket="data", Key="shared/hello.txt")["Body"].read() == b"written through A"
assert b.head_object(Bucket="data", Key="shared/hello.txt")["ContentLength"] == 17
PY
echo "two gateways on one PostgreSQL ok"
