# Test fixtures for the team gateway: three S3 backends on loopback, each
# on a port chosen at run time, with their buckets created, stopped at
# exit (or earlier with stop_backend):
#   A  moto_server with SigV4 checking (an IAM user made through moto's
#      first unauthenticated calls), bucket store-a
#   B  moto_server without auth, bucket store-b
#   C  s3rver (npm; does not check signatures), bucket store-c
# Source it from a tests/functional/gateway/*.sh script:
#   source "$(dirname "$0")/lib_backends.sh"
#   start_backends            # all three; or start_backend_a / _b / _c
#   backends_toml 1048576 2097152 ""   # [[backend]] tables with these quotas ("" = unlimited)
#   start_postgres            # a throwaway PostgreSQL 15: PG_PORT, PG_URL, pg (psql)
# After start, GW_A_URL/GW_A_KEY/GW_A_SECRET (and _B, _C) are exported; the
# keys are meant to be referenced from gateway.toml as access_key_env /
# secret_key_env. GW_x_PID is the server's pid, and stop_backend A|B|C
# kills one (to test fail-over). Never reaches anything but 127.0.0.1.
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

NODE_DIR=$ROAR_SOURCE_DIR/tests/functional/node
BACKEND_TOOL=${ROAR_GATEWAY_BACKEND_TOOL:-$ROAR_BUILD_DIR/bin/roar_gateway_backend_tool}

# Nothing may reach real AWS, a profile or a corporate proxy from here.
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 \
  http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
export AWS_CONFIG_FILE=$TEST_TMP/aws-config AWS_SHARED_CREDENTIALS_FILE=$TEST_TMP/aws-credentials
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=1

_gw_dump_logs() {
  local f
  for f in "$TEST_TMP"/*.log; do
    [[ -f "$f" ]] && { echo "--- $f"; tail -n 25 "$f"; } >&2
  done
  return 0
}
# Only under errexit: a command failing inside `set +e` is expected.
trap 'rc=$?; [[ $- == *e* ]] && { echo "FAIL: $TEST_NAME: line $LINENO: $BASH_COMMAND (exit $rc)" >&2; _gw_dump_logs; }' ERR

# check "behaviour": names the behaviour the next assertions prove, so a
# failure report says which one broke.
check() {
  CHECKING=$1
  echo "check: $1" >&2
}
fail() { echo "FAIL: $TEST_NAME: ${CHECKING:+[$CHECKING] }$*" >&2; exit 1; }

# _gw_bg NAME CMD...: CMD in the background, log in $TEST_TMP/NAME.log,
# killed at exit; sets GW_BG_PID.
_gw_bg() {
  local name=$1
  shift
  "$@" >"$TEST_TMP/$name.log" 2>&1 &
  GW_BG_PID=$!
  on_exit "kill $GW_BG_PID 2>/dev/null; wait $GW_BG_PID 2>/dev/null"
}

# _gw_make_buckets URL KEY SECRET BUCKET...: creates buckets with boto3.
_gw_make_buckets() {
  local url=$1 key=$2 secret=$3
  shift 3
  AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret python3 - "$url" "$@" <<'PY'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1")
for b in sys.argv[2:]:
    s3.create_bucket(Bucket=b)
PY
}

# start_backend_a [BUCKET...]: moto with SigV4 checking (default bucket store-a).
start_backend_a() {
  need moto_server
  local port creds
  port=$(free_port)
  GW_A_URL=http://127.0.0.1:$port
  INITIAL_NO_AUTH_ACTION_COUNT=3 _gw_bg backend-a moto_server -H 127.0.0.1 -p "$port"
  GW_A_PID=$GW_BG_PID
  wait_port "$port" 30 || fail "moto_server (A) did not start"
  creds=$(AWS_ACCESS_KEY_ID=bootstrap AWS_SECRET_ACCESS_KEY=bootstrap python3 - "$GW_A_URL" <<'PY'
import json, sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1")
iam.create_user(UserName="gateway")
key = iam.create_access_key(UserName="gateway")["AccessKey"]
iam.put_user_policy(UserName="gateway", PolicyName="all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
print(key["AccessKeyId"], key["SecretAccessKey"])
PY
)
  export GW_A_URL GW_A_KEY=${creds%% *} GW_A_SECRET=${creds#* } GW_A_PID
  _gw_make_buckets "$GW_A_URL" "$GW_A_KEY" "$GW_A_SECRET" "${@:-store-a}"
}

# start_backend_b [BUCKET...]: moto without auth (default bucket store-b).
start_backend_b() {
  need moto_server
  local port
  port=$(free_port)
  GW_B_URL=http://127.0.0.1:$port
  _gw_bg backend-b moto_server -H 127.0.0.1 -p "$port"
  GW_B_PID=$GW_BG_PID
  wait_port "$port" 30 || fail "moto_server (B) did not start"
  export GW_B_URL GW_B_KEY=backend-b-key GW_B_SECRET=backend-b-secret GW_B_PID
  _gw_make_buckets "$GW_B_URL" "$GW_B_KEY" "$GW_B_SECRET" "${@:-store-b}"
}

# start_backend_c [BUCKET...]: s3rver (default bucket store-c).
start_backend_c() {
  local bin=$NODE_DIR/node_modules/s3rver/bin/s3rver.js b port args=()
  [[ -f "$bin" ]] || skip "s3rver not installed (run tests/functional/node/install.sh)"
  need node
  port=$(free_port)
  GW_C_URL=http://127.0.0.1:$port
  mkdir -p "$TEST_TMP/s3rver-c"
  for b in "${@:-store-c}"; do args+=(--configure-bucket "$b"); done
  # s3rver makes ListObjectsV2 continuation tokens with DES, which OpenSSL 3
  # keeps in its legacy provider: without it a truncated listing answers 500.
  NODE_OPTIONS=--openssl-legacy-provider \
    _gw_bg backend-c node "$bin" -d "$TEST_TMP/s3rver-c" -a 127.0.0.1 -p "$port" "${args[@]}"
  GW_C_PID=$GW_BG_PID
  wait_port "$port" 30 || fail "s3rver (C) did not start"
  export GW_C_URL GW_C_KEY=S3RVER GW_C_SECRET=S3RVER GW_C_PID
}

# start_backends: A, B and C with their default buckets.
start_backends() {
  start_backend_a
  start_backend_b
  start_backend_c
}

# stop_backend A|B|C: kills that server now (fail-over tests).
stop_backend() {
  local pid_var=GW_${1}_PID
  kill "${!pid_var}" 2>/dev/null || true
  wait "${!pid_var}" 2>/dev/null || true
}

# backends_toml QUOTA_A QUOTA_B QUOTA_C [RES_A RES_B RES_C]: [[backend]]
# tables for gateway.toml (an empty quota means unlimited; residencies
# default to eu-fi, eu-de, us-east).
backends_toml() {
  local names=(a b c) vars=(A B C) quotas=("$1" "$2" "$3") res=("${4:-eu-fi}" "${5:-eu-de}" "${6:-us-east}") i url
  for i in 0 1 2; do
    url=GW_${vars[$i]}_URL
    [[ -n "${!url:-}" ]] || continue
    echo "[[backend]]"
    echo "name = \"${names[$i]}\""
    echo "endpoint = \"${!url}\""
    echo "bucket = \"store-${names[$i]}\""
    echo "region = \"us-east-1\""
    echo "access_key_env = \"GW_${vars[$i]}_KEY\""
    echo "secret_key_env = \"GW_${vars[$i]}_SECRET\""
    [[ -n "${quotas[$i]}" ]] && echo "quota_bytes = ${quotas[$i]}"
    echo "residency = \"${res[$i]}\""
    echo
  done
}

# backend_tool A|B|C OP ARGS...: the gateway's backend client against that backend.
backend_tool() {
  local v=$1
  shift
  local url=GW_${v}_URL
  "$BACKEND_TOOL" --endpoint "${!url}" --access-key-env "GW_${v}_KEY" --secret-key-env "GW_${v}_SECRET" "$@"
}

# start_postgres: a throwaway PostgreSQL 15 on a free loopback port with a
# database "gw" owned by role "roar" (trust auth), stopped at exit. Run as
# root, the server runs as the postgres account (initdb refuses root).
# Sets PG_PORT and PG_URL (postgresql://roar@127.0.0.1:PORT/gw); pg ARGS...
# runs psql against it with ON_ERROR_STOP.
start_postgres() {
  local bin=/usr/lib/postgresql/15/bin as=()
  [[ -x $bin/initdb ]] || skip "PostgreSQL 15 is not installed (postgresql-15)"
  need psql
  PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/roar-pg.XXXXXX")
  on_exit "rm -rf '$PG_DIR'"
  if [[ $(id -u) == 0 ]]; then
    chown postgres "$PG_DIR"
    as=(runuser -u postgres --)
  fi
  PG_PORT=$(free_port)
  "${as[@]}" "$bin/initdb" -D "$PG_DIR/data" -U roar --auth=trust >"$TEST_TMP/initdb.log" 2>&1 ||
    fail "initdb failed: $(tail -3 "$TEST_TMP/initdb.log")"
  "${as[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1" start >/dev/null ||
    fail "PostgreSQL did not start: $(tail -3 "$PG_DIR/postgres.log")"
  on_exit "${as[*]} $bin/pg_ctl -D '$PG_DIR/data' -m immediate stop >/dev/null 2>&1"
  "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U roar gw
  PG_URL=postgresql://roar@127.0.0.1:$PG_PORT/gw
  export PG_PORT PG_URL
}

pg() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U roar -d gw "$@"; }
