# Shared set-up for the S3 routing tests (the shim's side of issue 17),
# sourced by each tests/functional/s3route/*.sh. On top of ../proxy/lib_s3.sh
# (moto on loopback with SigV4 checking, bg_start, credentials kept out of
# the real AWS): a PROXY v2 receiver standing in for the job's proxy
# (pp2_receiver.py: checks the header, logs it, relays to moto), `traced`
# to run a client under the shim (roar-events) with the ROAR_S3_* variables,
# jq helpers over the receiver's log and the events, and `check NAME` so a
# failure says which behaviour broke. roar-proxy plays no part here.
# shellcheck source=../proxy/lib_s3.sh
source "$(dirname "${BASH_SOURCE[0]}")/../proxy/lib_s3.sh"

EVENTS_BIN=$ROAR_BUILD_DIR/bin/roar-events
ROUTE_DIR=$ROAR_SOURCE_DIR/tests/functional/s3route
[[ -x "$EVENTS_BIN" ]] || fail "roar-events not built at $EVENTS_BIN"
[[ -f "$ROAR_BUILD_DIR/lib/roar/libroar_preload.so" ]] || fail "libroar_preload.so not built"
need jq

# check NAME: the behaviour the following lines verify; named by any failure.
CHECKING=
check() {
  CHECKING=$1
  echo "check: $1"
}
fail() { echo "FAIL: $TEST_NAME${CHECKING:+ [$CHECKING]}: $*" >&2; exit 1; }
trap 'rc=$?; echo "FAIL: $TEST_NAME${CHECKING:+ [$CHECKING]}: line $LINENO: $BASH_COMMAND (exit $rc)" >&2; _s3_dump_logs' ERR

# build_client: compiles progs/net_client.c to $NET_CLIENT.
NET_CLIENT=$TEST_TMP/net_client
build_client() {
  need gcc
  gcc -O1 -Wall -o "$NET_CLIENT" "$ROUTE_DIR/progs/net_client.c"
}

# start_receiver: the PROXY v2 receiver relaying to moto (start_moto first);
# sets RECV_PORT, RECV_LOG, ROUTE_SECRET.
start_receiver() {
  ROUTE_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  RECV_LOG=$TEST_TMP/receiver.jsonl
  : >"$RECV_LOG"
  local port_file=$TEST_TMP/receiver.port
  bg_start receiver "$PYTHON" "$ROUTE_DIR/pp2_receiver.py" --port-file "$port_file" --log "$RECV_LOG" \
    --upstream "127.0.0.1:$MOTO_PORT" --secret "$ROUTE_SECRET"
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -s "$port_file" ]] && break
    sleep 0.1
  done
  RECV_PORT=$(cat "$port_file")
  [[ "$RECV_PORT" =~ ^[0-9]+$ ]] || fail "the PROXY v2 receiver did not start"
}

# moto_started: start_moto plus MOTO_PORT.
moto_started() {
  start_moto
  MOTO_PORT=${MOTO_URL##*:}
}

# traced HOSTS CMD...: runs CMD under the shim with routing to the receiver
# for HOSTS (ROAR_S3_HOSTS); extra ROAR_S3_* may be set by the caller's
# environment (e.g. ROAR_S3_TLS=1 traced ...). Events in $EV, stdout in
# $OUT; fails when CMD fails.
EV=$TEST_TMP/events.jsonl
OUT=$TEST_TMP/stdout
traced() {
  local hosts=$1
  shift
  local rc=0
  ROAR_S3_PROXY=127.0.0.1:$RECV_PORT ROAR_S3_SECRET=$ROUTE_SECRET ROAR_S3_HOSTS=$hosts \
    "$EVENTS_BIN" --output "$EV" -- "$@" >"$OUT" 2>"$TEST_TMP/stderr" || rc=$?
  if ((rc != 0)); then
    cat "$OUT" "$TEST_TMP/stderr" >&2
    fail "traced command failed ($rc): $*"
  fi
  grep -q ' 0 dropped' "$TEST_TMP/stderr" || fail "events were dropped: $(tail -1 "$TEST_TMP/stderr")"
}

# recv COUNT_BEFORE: the receiver's connections logged after the first
# COUNT_BEFORE lines, one JSON object each, first_line merged in.
recv_lines() { wc -l <"$RECV_LOG"; }
recv() {
  local skip=${1:-0}
  tail -n +$((skip + 1)) "$RECV_LOG" | jq -s -c '
    (map(select(.first_line != null)) | map({key: (.id | tostring), value: .first_line}) | from_entries) as $first
    | map(select(.first_line == null)) | map(. + {first_line: ($first[.id | tostring] // "")})'
}

# out KEY: the value net_client printed for KEY.
out() { sed -n "s/^$1=//p" "$OUT" | head -1; }

# notes: the NOTE texts of the traced run, one per line.
notes() { jq -r 'select(.op == "note") | .s1' "$EV"; }

# pids_of PROG: pids of the traced processes with PROG (or .../PROG) in
# their argv: the program itself, or a script its interpreter runs.
pids_of() {
  jq -r --arg w "$1" 'select(.op == "proc_start" and any(.argv[]?; . == $w or endswith("/" + $w))) | .pid' "$EV" |
    sort -u
}
