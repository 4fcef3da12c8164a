# S3-specific helpers for the proxy's functional tests: free ports, start
# and stop moto_server (with real SigV4 checking), s3rver and roar-proxy,
# all on loopback and always stopped by the EXIT trap. Sourced by each
# tests/functional/proxy/*.sh script.
set -euo pipefail

_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROAR_SOURCE_DIR="${ROAR_SOURCE_DIR:-$(cd "$_here/../../.." && pwd)}"
if [[ -f "$ROAR_SOURCE_DIR/tests/functional/lib/common.sh" ]]; then
    # shellcheck source=/dev/null
    source "$ROAR_SOURCE_DIR/tests/functional/lib/common.sh"
fi
set -euo pipefail

ROAR_BUILD_DIR="${ROAR_BUILD_DIR:-$ROAR_SOURCE_DIR/build}"
ROAR_PROXY="$ROAR_BUILD_DIR/bin/roar-proxy"
NODE_DIR="$ROAR_SOURCE_DIR/tests/functional/node"

if ! declare -F skip >/dev/null; then
    skip() { echo "SKIP: $*" >&2; exit 77; }
fi
if ! declare -F fail >/dev/null; then
    fail() { echo "FAIL: $*" >&2; exit 1; }
fi
if ! declare -F free_port >/dev/null; then
    free_port() {
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
    }
fi

[[ -x "$ROAR_PROXY" ]] || skip "roar-proxy not built at $ROAR_PROXY"

S3T_TMP="$(mktemp -d "${TMPDIR:-/tmp}/roar-proxy-test.XXXXXX")"
_s3t_pids=()
_s3t_cleanup() {
    local pid
    for pid in "${_s3t_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${_s3t_pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    [[ -n "${S3T_KEEP:-}" ]] || rm -rf "$S3T_TMP"
}
trap _s3t_cleanup EXIT
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND" >&2; for f in "$S3T_TMP"/*.log; do echo "--- $f"; tail -n 30 "$f"; done >&2' ERR

# Never touch real AWS or a corporate proxy from tests.
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
export AWS_CONFIG_FILE="$S3T_TMP/aws-config" AWS_SHARED_CREDENTIALS_FILE="$S3T_TMP/aws-credentials"
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
unset AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3

# wait_port PORT [SECONDS]: until something listens on 127.0.0.1:PORT.
wait_port() {
    local port=$1 limit=${2:-20} i
    for ((i = 0; i < limit * 10; i++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    fail "nothing listens on port $port after ${limit}s"
}

# start_moto: moto_server with SigV4 checking on; sets MOTO_PORT, MOTO_URL
# and exports AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY of an IAM user that
# may do everything (moto only checks signatures after the first 3 calls).
start_moto() {
    command -v moto_server >/dev/null || skip "moto_server not installed"
    MOTO_PORT=$(free_port)
    MOTO_URL="http://127.0.0.1:$MOTO_PORT"
    INITIAL_NO_AUTH_ACTION_COUNT=3 moto_server -H 127.0.0.1 -p "$MOTO_PORT" >"$S3T_TMP/moto.log" 2>&1 &
    _s3t_pids+=($!)
    wait_port "$MOTO_PORT" 30
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
    export AWS_ACCESS_KEY_ID="${creds%% *}" AWS_SECRET_ACCESS_KEY="${creds#* }"
}

# start_s3rver [BUCKET...]: s3rver from tests/functional/node; sets
# S3RVER_PORT/S3RVER_URL and the S3RVER/S3RVER credentials.
start_s3rver() {
    local bin="$NODE_DIR/node_modules/s3rver/bin/s3rver.js"
    [[ -f "$bin" ]] || skip "s3rver not installed (run tests/functional/node/install.sh)"
    S3RVER_PORT=$(free_port)
    S3RVER_URL="http://127.0.0.1:$S3RVER_PORT"
    mkdir -p "$S3T_TMP/s3rver"
    local args=() b
    for b in "$@"; do args+=(--configure-bucket "$b"); done
    node "$bin" -d "$S3T_TMP/s3rver" -a 127.0.0.1 -p "$S3RVER_PORT" "${args[@]}" >"$S3T_TMP/s3rver.log" 2>&1 &
    _s3t_pids+=($!)
    wait_port "$S3RVER_PORT" 30
    export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
}

# start_proxy UPSTREAM_URL [extra flags...]: roar-proxy on a free port
# chosen by itself (--listen :0 + --ready-fd); sets PROXY_PORT, PROXY_URL,
# PROXY_PID. The proxy inherits the AWS_* credentials of the environment.
start_proxy() {
    local upstream=$1
    shift
    local fifo="$S3T_TMP/ready.$RANDOM"
    mkfifo "$fifo"
    "$ROAR_PROXY" --listen 127.0.0.1:0 --upstream "$upstream" --ready-fd 3 --log-file "$S3T_TMP/proxy.log" "$@" \
        3>"$fifo" &
    PROXY_PID=$!
    _s3t_pids+=("$PROXY_PID")
    read -r -t 10 PROXY_PORT <"$fifo" || fail "roar-proxy sent no ready signal"
    rm -f "$fifo"
    PROXY_URL="http://127.0.0.1:$PROXY_PORT"
}

# stop_proxy: SIGTERM and wait; fails if the proxy does not exit 0.
stop_proxy() {
    kill -TERM "$PROXY_PID"
    local rc=0
    wait "$PROXY_PID" || rc=$?
    [[ $rc -eq 0 ]] || fail "roar-proxy exited with $rc after SIGTERM"
}

# metric NAME_WITH_LABELS: value of one line of /_roar/metrics (0 if absent).
metric() {
    curl -fsS "$PROXY_URL/_roar/metrics" | awk -v k="$1" '$1 == k { print $2; found=1 } END { if (!found) print 0 }'
}
