# Dropped events never turn a file the job created into an input (issue 10
# item 5): a file created while the ring was full and read back after it
# drained is an output of the job, not an input.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_faults.bash"
need gcc
new_project
"$ROAR" config set run.ring_size_mb 1 >/dev/null
echo data >f.txt

check "a file created while the ring was full and read after it drained is not an input"
gcc -O1 -o "$TEST_TMP/flood" "$ROAR_SOURCE_DIR/tests/functional/faults/progs/flood.c"
"$ROAR" run -q "$TEST_TMP/flood" f.txt 300000 created.txt &
roar_pid=$!
wait_file started 30 || true
kill -STOP "$roar_pid"
touch resume # the job floods the ring, then creates created.txt: those events are dropped
wait_file flooded 120 || true
kill -CONT "$roar_pid"
[[ -e flooded ]] || fail "the job did not get through the flood"
sleep 2 # roar drains the ring
touch go # the job reads created.txt back: this read is seen
wait "$roar_pid"
j=$(last_job)
dropped=$(jq -r .dropped_events <<<"$j")
((dropped > 0)) || fail "no events were dropped (the test would be void)"
inputs=$(jq -r '[.inputs[].path] | join(",")' <<<"$j")
assert_not_contains "$inputs" "created.txt" "inputs"
assert_contains "$(jq -r '[.outputs[].path] | join(",")' <<<"$j")" "$PROJECT/created.txt" "outputs"
echo ok
