# roar-events runs its command through the same job session as roar run:
# the job gets the shared job environment (its own ROAR_JOB_ID replacing
# an enclosing job's), every raw event is printed, and the command's exit
# status is roar-events' own.
. "$(dirname "$0")/../lib/common.sh"
EVENTS=$ROAR_BUILD_DIR/bin/roar-events
[[ -x $EVENTS ]] || skip "roar-events not built"
cd "$TEST_TMP"
echo data >input.txt

check "the job runs with the session's environment and its exit status is kept"
set +e
out=$(ROAR_JOB_ID=outer ROAR_RING=/roar-outer "$EVENTS" --output ev.jsonl -- \
  sh -c 'echo "job=$ROAR_JOB_ID ring=$ROAR_RING"; cat input.txt >/dev/null; exit 5' 2>err.txt)
rc=$?
set -e
assert_eq "$rc" 5 "exit status"
assert_contains "$out" "job=ev" "the session's job id"
assert_not_contains "$out" "job=outer" "an enclosing job's id"
assert_contains "$out" "ring=/roar-ev" "the session's ring"

check "every raw event is printed, the file read among them"
opens=$(jq -s '[.[] | select(.op == "open" and .s1 == "input.txt")] | length' ev.jsonl)
[[ $opens -ge 1 ]] || fail "no open event for input.txt"
assert_contains "$(cat err.txt)" "0 dropped" "the counters line"

check "a command that cannot be run is exit 127 with one line"
set +e
err=$("$EVENTS" -- ./no-such-program 2>&1 >/dev/null)
rc=$?
set -e
assert_eq "$rc" 127 "exit for a missing program"
assert_contains "$err" "cannot run './no-such-program'" "the error"
echo ok
