# `roar diff` compares two jobs (arguments, inputs and outputs with
# digests, exit status) or a step's last two runs, as text and --json;
# `roar pop` removes the session's newest job from the record, asking first
# unless -y, and never deletes a file.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_lineage.bash"
new_project
printf 'a\n' >data.csv
cat >train.py <<'PY'
import sys
open(sys.argv[2], "w").write(" ".join(sys.argv[3:]) + open(sys.argv[1]).read())
PY
run train.py data.csv model.pkl --lr=0.1
first=$("$ROAR" log --json | jq -r '.[-1].job_id')
printf 'b\n' >data.csv
run train.py data.csv model.pkl --lr=0.5

check "roar diff @N compares the step's last two runs"
d=$("$ROAR" diff --json @1)
assert_eq "$(jq -r .a.job_uid <<<"$d")" "$first" "older run first"
assert_eq "$(jq -r .argv.same <<<"$d")" false "arguments differ"
assert_eq "$(jq -r '.argv.b[-1]' <<<"$d")" "--lr=0.5" "new argument"
assert_eq "$(jq -c '[.inputs.changed[].path]' <<<"$d")" '["data.csv"]' "changed input"
assert_eq "$(jq -c '[.outputs.changed[].path]' <<<"$d")" '["model.pkl"]' "changed output"
assert_eq "$(jq -r '.inputs.changed[0].b' <<<"$d")" "blake3:$(b3 data.csv)" "digest of the new input"
assert_eq "$(jq -r .exit_code.same <<<"$d")" true "same exit status"
text=$("$ROAR" diff @1)
assert_contains "$text" "+ $PY train.py data.csv model.pkl --lr=0.5" "text: new command"
assert_contains "$text" "~ data.csv" "text: changed input"

check "roar diff REF REF compares any two jobs"
second=$("$ROAR" log --json | jq -r '.[-1].job_id')
assert_eq "$("$ROAR" diff --json "$second" "$first" | jq -r '.argv.b[-1]')" "--lr=0.1" "order as given"
expect_failure "$ROAR" diff @9
assert_contains "$ERR_OUT" "no step @9" "unknown step"

check "roar pop asks first, and no answer keeps the job"
expect_failure "$ROAR" pop </dev/null
assert_eq "$("$ROAR" log --json | jq length)" 2 "still two jobs"

check "roar pop -y removes the newest job, not its files"
out=$("$ROAR" pop -y)
assert_contains "$out" "Removed job $second (@1)" "message"
assert_eq "$("$ROAR" log --json | jq -c '[.[].job_id]')" "[\"$first\"]" "one job left"
[[ -f model.pkl ]] || fail "pop deleted model.pkl"
assert_eq "$(dag_json | jq '.nodes[0].executions')" 1 "the step keeps its first run"

check "roar pop answered y removes the last job and its now-empty step"
echo y | "$ROAR" pop >/dev/null 2>&1
assert_eq "$(dag_json | jq .total_steps)" 0 "no steps left"
[[ -f model.pkl && -f data.csv ]] || fail "pop deleted files"
echo ok
