# Shared set-up for the preload functional tests; source it first:
#   . "$(dirname "$0")/preload_lib.bash"
# On top of ../lib/common.sh (strict mode, $TEST_TMP, skip/fail/assert_*):
# a work directory, `build NAME` for the tiny C programs in progs/, `trace
# CMD...` to run a command under roar-events (every raw event of the shim as
# a JSON line in $EV), and jq helpers over those events.
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

EVENTS_BIN=$ROAR_BUILD_DIR/bin/roar-events
SHIM=$ROAR_BUILD_DIR/lib/roar/libroar_preload.so
PROGS=$ROAR_SOURCE_DIR/tests/functional/preload/progs
[[ -x "$EVENTS_BIN" ]] || fail "roar-events not built at $EVENTS_BIN"
[[ -f "$SHIM" ]] || fail "libroar_preload.so not built at $SHIM"
need gcc

WORK=$TEST_TMP/work
mkdir -p "$WORK"
cd "$WORK"
EV=$TEST_TMP/events.jsonl

# build NAME [gcc args...]: compiles progs/NAME.c to $TEST_TMP/NAME.
build() {
  local name=$1
  shift
  gcc -O1 -o "$TEST_TMP/$name" "$PROGS/$name.c" "$@"
}

# trace CMD...: runs CMD under the shim via roar-events. Events go to $EV,
# CMD's stdout to $TEST_TMP/stdout; its exit status is in $TRACE_RC and
# roar-events' summary line in $TRACE_SUMMARY.
trace() {
  set +e
  "$EVENTS_BIN" --output "$EV" -- "$@" >"$TEST_TMP/stdout" 2>"$TEST_TMP/stderr"
  TRACE_RC=$?
  set -e
  TRACE_SUMMARY=$(grep '^roar-events:' "$TEST_TMP/stderr" | tail -1 || true)
  [[ -s "$EV" ]] || fail "no events from: $* ($(cat "$TEST_TMP/stderr"))"
}

# jq over the events as one array, with bit(N): whether flag bit N is set.
_JQ_DEFS='def bit($b): ((. / $b) | floor) % 2 == 1;'
q() { jq -c -s "$_JQ_DEFS $1" "$EV"; }
qr() { jq -r -s "$_JQ_DEFS $1" "$EV"; }

# The pid of the traced command (its first PROC_START).
root_pid() { qr '[.[] | select(.op == "proc_start")][0].pid'; }

# count FILTER: how many events match the jq boolean FILTER.
count() { qr "[.[] | select($1)] | length"; }

# assert_count FILTER N WHAT
assert_count() { assert_eq "$(count "$1")" "$2" "${3:-events matching $1}"; }

# Asserts that roar-events saw no drops and no sync timeouts.
assert_clean_ring() {
  assert_contains "$TRACE_SUMMARY" " 0 dropped" "ring drops"
  assert_contains "$TRACE_SUMMARY" " 0 sync timeouts" "sync timeouts"
}

# ---- job-level helpers for the real-program matrix (roar run / show) ----

# job CMD...: `roar run -q -- CMD...` in the current project (new_project
# first); the job's JSON record is then in $JOB.
job() {
  set +e
  "$ROAR" run -q -- "$@"
  JOB_RC=$?
  set -e
  # The newest job, by id: runs of one program can share a step (docs/commands/run.md).
  JOB=$(show_json "$("$ROAR" log --json | jq -r '.[-1].job_id')")
}
# assert_io DIRECTION PATH: PATH (relative to $PROJECT) is among the job's
# inputs/outputs, and for outputs its blake3 is b3sum of the file now.
assert_io() {
  local dir=$1 path=$PROJECT/$2
  io_paths "$JOB" "$dir" | grep -qxF "$path" || fail "$path not in $dir: $(io_paths "$JOB" "$dir" | tr '\n' ' ')"
  if [[ $dir == outputs && -f $path ]]; then
    assert_eq "$(io_digest "$JOB" outputs "$path")" "$(b3 "$path")" "blake3 of output $2"
  fi
}
assert_not_io() {
  local dir=$1 path=$PROJECT/$2
  if io_paths "$JOB" "$dir" | grep -qxF "$path"; then
    fail "$path unexpectedly in $dir"
  fi
}
# assert_input_digest PATH DIGEST: the recorded input digest of PATH.
assert_input_digest() {
  assert_eq "$(io_digest "$JOB" inputs "$PROJECT/$1")" "$2" "input digest of $1"
}
