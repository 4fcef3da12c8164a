# The roar-proxy --gateway set-up the server's tests share (gateway_s3.sh,
# gateway_copy.sh, gateway_postgres.sh, gateway_ops.sh, ...): on top of
# lib_backends.sh, the gateway's secrets in the environment, the common
# head of gateway.toml, starting a gateway and waiting for its port, and
# boto3 clients of the gateway and the backends.
#   source "$(dirname "$0")/lib_gateway.sh"
#   start_backend_a; start_backend_b; new_gateway_url   # GW_PORT, GW_URL
#   { gateway_toml_head PORT "sqlite://$TEST_TMP/gw.db"; backends_toml ...; cat <<EOF ... EOF; } >FILE
#   start_gateway NAME FILE [ARGS...]    # log in $TEST_TMP/NAME.log; sets GW_PID
#   static <<PY ... $PYHEAD ... PY       # Python with `gw`, `a`, `b` as the static key
# shellcheck source=lib_backends.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib_backends.sh"
PROXY=$ROAR_BUILD_DIR/bin/roar-proxy
[[ -x "$PROXY" ]] || fail "roar-proxy not built at $PROXY"

export GW_SECRET=gateway-static-secret-0123456789
export ROAR_GATEWAY_ADMIN_TOKEN=admin-token-0123456789abcdef
export GW_PASSPHRASE=a-passphrase-for-tenant-secrets

# new_gateway_url: picks a free GW_PORT for the gateway and exports GW_URL
# and ROAR_GATEWAY_URL (the admin CLI's) for it.
new_gateway_url() {
  GW_PORT=$(free_port)
  GW_URL=http://127.0.0.1:$GW_PORT
  export ROAR_GATEWAY_URL=$GW_URL GW_URL
}

# gateway_toml_head PORT METADATA_URL: listen, the static key, the admin
# token, the passphrase and the metadata of a gateway.toml.
gateway_toml_head() {
  cat <<TOML
listen = "127.0.0.1:$1"
[auth]
access_key = "AKIAGATEWAYTEST"
secret_key_env = "GW_SECRET"
[admin]
token_env = "ROAR_GATEWAY_ADMIN_TOKEN"
[secrets]
passphrase_env = "GW_PASSPHRASE"
[metadata]
url = "$2"
TOML
}

# data_bucket_toml: the [[bucket]] "data", placed first-fit over backends a
# and b under the key prefix data/.
data_bucket_toml() {
  printf '[[bucket]]\nname = "data"\nbackends = ["a", "b"]\nplacement = "first-fit"\nkey_prefix = "data/"\n'
}

# start_gateway NAME FILE [ARGS...]: roar-proxy --gateway FILE --verbose
# ARGS in the background (output in $TEST_TMP/NAME.log, stopped at exit),
# waiting for the port FILE's listen names; sets GW_PID.
start_gateway() {
  local name=$1 file=$2 port
  shift 2
  port=$(sed -n 's/^listen = "127\.0\.0\.1:\([0-9]*\)"$/\1/p' "$file")
  _gw_bg "$name" "$PROXY" --gateway "$file" --verbose "$@"
  GW_PID=$GW_BG_PID
  wait_port "$port" 30 || fail "gateway $name did not start: $(tail -5 "$TEST_TMP/$name.log")"
}

# gw_py KEY SECRET: runs the Python on stdin with boto3 clients `gw` (the
# gateway at $GW_URL, with these credentials), `a` and `b` (the backends
# directly, None when not started) when it starts with $PYHEAD.
gw_py() {
  local key=$1 secret=$2
  shift 2
  GW_KEY=$key GW_SEC=$secret python3 - "$@"
}
PYHEAD='
import os, sys, boto3, botocore
from botocore.config import Config
cfg = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"})
gw = boto3.client("s3", endpoint_url=os.environ["GW_URL"], region_name="us-east-1", config=cfg,
                  aws_access_key_id=os.environ["GW_KEY"], aws_secret_access_key=os.environ["GW_SEC"])
def backend(v):
    # None when the test did not start that backend.
    if "GW_%s_URL" % v not in os.environ:
        return None
    return boto3.client("s3", endpoint_url=os.environ["GW_%s_URL" % v], region_name="us-east-1", config=cfg,
                        aws_access_key_id=os.environ["GW_%s_KEY" % v],
                        aws_secret_access_key=os.environ["GW_%s_SECRET" % v])
a, b = backend("A"), backend("B")
def keys(client, bucket, prefix):
    # moto refuses an encoded '/' in a signed query (TEST-PEERS.md): filter here.
    listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    return sorted(o["Key"] for o in listed if o["Key"].startswith(prefix))
def code(fn):
    try:
        fn()
    except botocore.exceptions.ClientError as e:
        return "%s %s" % (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"])
    return "ok"
'
# static: gw_py with the configuration's static key.
static() { gw_py AKIAGATEWAYTEST "$GW_SECRET" "$@"; }
