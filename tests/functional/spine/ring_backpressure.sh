# Four processes opening files flat out into a small ring while roar is
# briefly stopped (shorter than run.sync_timeout_ms): the producers wait
# for space instead of dropping, every file is recorded, no event is lost,
# and the job record says how often and how long the processes waited.
. "$(dirname "$0")/../lib/common.sh"
need gcc
new_project
"$ROAR" config set run.ring_size_mb 1 >/dev/null # 16,384 slots
gcc -O1 -o "$TEST_TMP/open_many" "$ROAR_SOURCE_DIR/tests/functional/spine/progs/open_many.c"
"$TEST_TMP/open_many" mk data 4 500
# 4 x 500 files x 100 rounds = 200,000 open+close, 600,000 slots.
"$ROAR" run -q "$TEST_TMP/open_many" run data 4 500 100 &
roar_pid=$!
for _ in $(seq 200); do [[ -e data/started ]] && break; sleep 0.05; done
[[ -e data/started ]] || fail "the job did not start"
kill -STOP "$roar_pid"
sleep 0.5
kill -CONT "$roar_pid"
wait "$roar_pid" || fail "roar run failed"
j=$(last_job)
assert_eq "$(jq -r .exit_code <<<"$j")" 0 "job exit code"
assert_eq "$(jq -r .dropped_events <<<"$j")" 0 "dropped events"
assert_eq "$(jq '[.inputs[] | select(.path | test("/data/[0-3]/f[0-9]+$"))] | length' <<<"$j")" 2000 "inputs recorded"
assert_contains "$(jq -r '.notes | join(";")' <<<"$j")" "for roar to drain a full event ring" "wait note"
echo ok
