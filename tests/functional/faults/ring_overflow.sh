# A ring that overflows (roar stopped while the job opens a file 300,000
# times into a 1 MiB ring): the job finishes, its record says how many
# events were lost, the database stays intact, nothing recorded earlier is
# lost or changed, and the next job (with a fresh ring) is recorded whole.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_faults.bash"
need python3 gcc
new_project
"$ROAR" config set run.ring_size_mb 1 >/dev/null
echo data >f.txt
for i in 1 2; do "$ROAR" run -q sh -c "cat f.txt > before$i.txt"; done
snapshot_history "$TEST_TMP/history"

gcc -O1 -o "$TEST_TMP/flood" "$ROAR_SOURCE_DIR/tests/functional/faults/progs/flood.c"

# flood_while_stopped: runs a job that floods the ring while roar is stopped.
flood_while_stopped() {
  rm -f started resume done.txt
  "$ROAR" run -q "$TEST_TMP/flood" f.txt 300000 &
  local roar_pid=$!
  wait_file started 30 || true
  kill -STOP "$roar_pid"
  touch resume
  wait_file done.txt 120 || true
  kill -CONT "$roar_pid"
  [[ -e done.txt ]] || fail "the job blocked on the full ring while roar was stopped"
  wait "$roar_pid" || fail "roar run failed after the ring overflowed"
}

check "a job that overflows the ring finishes and its record counts what was lost"
flood_while_stopped
j=$(last_job)
dropped=$(jq -r .dropped_events <<<"$j")
[[ "$dropped" =~ ^[0-9]+$ ]] && ((dropped > 0)) || fail "expected dropped events, got '$dropped' (the test would be void)"
assert_contains "$(jq -r '.notes | join(";")' <<<"$j")" "dropped because the event ring was full" "the record's note"
assert_eq "$(jq -r .exit_code <<<"$j")" 0 "the job's exit code"

check "the overflow loses nothing recorded earlier"
db_ok "after the overflow"
assert_history_kept "$TEST_TMP/history" "after the overflow"

check "the next job, with a fresh ring, is recorded whole"
"$ROAR" run -q sh -c 'cat f.txt > after.txt'
j=$(last_job)
assert_eq "$(jq -r .dropped_events <<<"$j")" 0 "dropped events of the next job"
assert_eq "$(jq -r '[.inputs[].path] | join(",")' <<<"$j")" "$PROJECT/f.txt" "inputs of the next job"
assert_eq "$(jq -r '[.outputs[].path] | join(",")' <<<"$j")" "$PROJECT/after.txt" "outputs of the next job"
echo ok
