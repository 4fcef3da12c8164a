# S3-specific helpers for the proxy's functional tests, on top of
# tests/functional/lib/common.sh: start moto_server (with real SigV4
# checking), s3rver and roar-proxy on free loopback ports, always stopped at
# exit. Sourced by each tests/functional/proxy/*.sh script.
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

ROAR_PROXY=${ROAR_PROXY:-$ROAR_BUILD_DIR/bin/roar-proxy}
RING_TOOL=${ROAR_PROXY_RING_TOOL:-$ROAR_BUILD_DIR/bin/roar_proxy_ring_tool}
NODE_DIR=$ROAR_SOURCE_DIR/tests/functional/node
[[ -x "$ROAR_PROXY" ]] || fail "roar-proxy not built at $ROAR_PROXY"

# Never reach real AWS or a corporate proxy from tests; use throwaway files.
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 \
  http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
export AWS_CONFIG_FILE=$TEST_TMP/aws-config AWS_SHARED_CREDENTIALS_FILE=$TEST_TMP/aws-credentials
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=1

# Prints the last lines of the servers' logs when a test fails.
_s3_dump_logs() {
  local f
  for f in "$TEST_TMP"/*.log; do
    [[ -f "$f" ]] && { echo "--- $f"; tail -n 25 "$f"; } >&2
  done
  return 0
}
trap 'rc=$?; echo "FAIL: $TEST_NAME: line $LINENO: $BASH_COMMAND (exit $rc)${CHECKING:+ while checking: $CHECKING}" >&2; _s3_dump_logs' ERR

# check WHAT: names the behaviour the lines that follow assert, so a failure
# says which one broke (unless common.sh already provides it).
if ! declare -F check >/dev/null; then
  check() {
    CHECKING=$*
    echo "check: $*"
  }
fi

# bg_start NAME CMD...: runs CMD in the background (log in $TEST_TMP/NAME.log),
# registered to be killed at exit; sets BG_PID.
bg_start() {
  local name=$1
  shift
  "$@" >"$TEST_TMP/$name.log" 2>&1 &
  BG_PID=$!
  on_exit "kill $BG_PID 2>/dev/null; wait $BG_PID 2>/dev/null"
}

# daemon_project: a new project whose standalone daemon (`roar proxy
# start`) will listen on a free port (in `port`, its URL in `URL`) and
# forward to moto (start_moto first).
daemon_project() {
  new_project
  port=$(free_port)
  "$ROAR" config set proxy.port "$port" >/dev/null
  "$ROAR" config set proxy.upstream_endpoint "$MOTO_URL" >/dev/null
  URL=http://127.0.0.1:$port
}

# start_moto: moto_server with SigV4 checking on; sets MOTO_URL and exports
# AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY of an IAM user allowed everything
# (moto only checks signatures after its first 3 unauthenticated calls).
start_moto() {
  need moto_server
  local port
  port=$(free_port)
  MOTO_URL=http://127.0.0.1:$port
  INITIAL_NO_AUTH_ACTION_COUNT=3 bg_start moto moto_server -H 127.0.0.1 -p "$port"
  wait_port "$port" 30 || fail "moto_server did not start"
  local creds
  creds=$(AWS_ACCESS_KEY_ID=bootstrap AWS_SECRET_ACCESS_KEY=bootstrap python3 - "$MOTO_URL" <<'PY'
import json, sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1")
iam.create_user(UserName="roar")
key = iam.create_access_key(UserName="roar")["AccessKey"]
iam.put_user_policy(UserName="roar", PolicyName="all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
print(key["AccessKeyId"], key["SecretAccessKey"])
PY
)
  export AWS_ACCESS_KEY_ID=${creds%% *} AWS_SECRET_ACCESS_KEY=${creds#* }
}

# moto_etag BUCKET KEY: the ETag moto holds for the object (read directly, not through a proxy).
moto_etag() {
  python3 -c 'import sys, boto3; print(boto3.client("s3", endpoint_url=sys.argv[1]).head_object(
    Bucket=sys.argv[2], Key=sys.argv[3])["ETag"])' "$MOTO_URL" "$1" "$2"
}

# start_s3rver BUCKET...: s3rver (npm, tests/functional/node) with BUCKETs
# (BUCKET=FILE also configures it with FILE, e.g. a CORS XML); sets
# S3RVER_URL, S3RVER_DIR and the S3RVER/S3RVER credentials.
start_s3rver() {
  local bin=$NODE_DIR/node_modules/s3rver/bin/s3rver.js
  [[ -f "$bin" ]] || skip "s3rver not installed (run tests/functional/node/install.sh)"
  need node
  local port b args=()
  port=$(free_port)
  S3RVER_URL=http://127.0.0.1:$port
  S3RVER_DIR=$TEST_TMP/s3rver-data
  mkdir -p "$S3RVER_DIR"
  for b in "$@"; do
    if [[ $b == *=* ]]; then
      args+=(--configure-bucket "${b%%=*}" "${b#*=}")
    else
      args+=(--configure-bucket "$b")
    fi
  done
  bg_start s3rver node "$bin" -d "$S3RVER_DIR" -a 127.0.0.1 -p "$port" "${args[@]}"
  wait_port "$port" 30 || fail "s3rver did not start"
  export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
}

# start_proxy UPSTREAM_URL [FLAGS...]: roar-proxy on a port it picks itself
# (--listen 127.0.0.1:0 and --ready-fd); sets PROXY_PORT, PROXY_URL and
# PROXY_PID. It inherits the AWS_* credentials of the environment.
start_proxy() {
  local upstream=$1
  shift
  local fifo=$TEST_TMP/ready.$RANDOM
  mkfifo "$fifo"
  "$ROAR_PROXY" --listen 127.0.0.1:0 --upstream "$upstream" --ready-fd 3 --log-file "$TEST_TMP/proxy.log" \
    "$@" 3>"$fifo" &
  PROXY_PID=$!
  on_exit "kill $PROXY_PID 2>/dev/null; wait $PROXY_PID 2>/dev/null"
  read -r -t 10 PROXY_PORT <"$fifo" || fail "roar-proxy sent no ready signal"
  rm -f "$fifo"
  PROXY_URL=http://127.0.0.1:$PROXY_PORT
}

# stop_proxy: SIGTERM, then require exit status 0 within 10 s.
stop_proxy() {
  kill -TERM "$PROXY_PID"
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 "$PROXY_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$PROXY_PID" 2>/dev/null && fail "roar-proxy still running 10 s after SIGTERM"
  local rc=0
  wait "$PROXY_PID" || rc=$?
  assert_eq "$rc" 0 "roar-proxy exit status after SIGTERM"
}

# metric 'NAME{LABELS}': one value from /_roar/metrics (0 when absent).
metric() {
  curl -fsS "$PROXY_URL/_roar/metrics" | awk -v k="$1" '$1 == k { print $2; found = 1 } END { if (!found) print 0 }'
}

# peak_rss_kib PID: VmHWM of a process in KiB.
peak_rss_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
