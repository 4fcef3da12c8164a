# Shared set-up for the environment capture tests: common.sh, the two
# tools, and capture(), which runs a command under the shim and prints its
# environment record.
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

ROAR_EVENTS=$ROAR_BUILD_DIR/bin/roar-events
ROAR_ENVIRONMENT=$ROAR_BUILD_DIR/bin/roar-environment
[[ -x $ROAR_EVENTS && -x $ROAR_ENVIRONMENT ]] || fail "roar-events or roar-environment not built in $ROAR_BUILD_DIR"
ENV_CACHE=$TEST_TMP/cache

# capture NAME [roar-environment options] -- CMD...: runs CMD under the shim
# (events in $TEST_TMP/NAME.jsonl) and writes its record to $TEST_TMP/NAME.json.
capture() {
  local name=$1
  shift
  local opts=()
  while [[ $1 != -- ]]; do opts+=("$1"); shift; done
  shift
  "$ROAR_EVENTS" --output "$TEST_TMP/$name.jsonl" -- "$@" 2>/dev/null
  "$ROAR_ENVIRONMENT" --cache-dir "$ENV_CACHE" "${opts[@]}" --events "$TEST_TMP/$name.jsonl" >"$TEST_TMP/$name.json"
}

# check DESCRIPTION: names the behaviour the assertions after it verify.
check() { echo "check: $*"; }
