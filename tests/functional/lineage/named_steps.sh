# Named steps: `roar run -n NAME -- cmd` names the job's step, later runs
# with the same name join it (even writing other outputs), and @NAME works
# wherever @N does (run, show). `roar run @NAME` re-runs each current job
# of the step with its own arguments; an override is replaced in each or
# appended to each; the plan in `roar status` names the step.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_lineage.bash"
new_project
printf 'a\n' >data.csv
write_copy_script prep.py
cat >train.py <<'PY'
import sys
open(sys.argv[2], "w").write(" ".join(sys.argv[3:]) + " " + open(sys.argv[1]).read())
PY
stale_files() { "$ROAR" status --json | jq -c '[.stale_artifacts[] | ltrimstr("'"$PROJECT"'/")] | sort'; }

run prep.py data.csv clean.csv
for i in 1 2 3; do "$ROAR" run -q -n train -- "$PY" train.py clean.csv model_$i.pkl --lr=0.$i; done

check "runs named alike are one step, whatever they write"
d=$(dag_json)
assert_eq "$(jq .total_steps <<<"$d")" 2 "steps"
assert_eq "$(jq -r '.nodes[1] | [.step_name, .executions, ([.jobs[] | select(.is_current)] | length)] | @tsv' <<<"$d")" \
  "$(printf 'train\t3\t3')" "name, executions, current jobs"
assert_contains "$("$ROAR" dag)" "@train" "dag text names the step"

check "@NAME works in show"
assert_eq "$(show_json @train | jq -r .step)" 2 "show @train"
expect_failure "$ROAR" show @nosuch
assert_contains "$ERR_OUT" "no step @nosuch" "unknown name"

check "a name that cannot be one is refused"
expect_failure "$ROAR" run -n 9lives -- true
assert_contains "$ERR_OUT" "cannot name a step" "bad name"

check "-n or --hash with no value is a usage error, not a command to run"
for opt in -n --name --hash; do
  expect_failure "$ROAR" run "$opt"
  assert_contains "$ERR_OUT" "required" "$opt without a value"
  assert_not_contains "$ERR_OUT" "cannot run" "$opt is not taken for the command"
done

check "a changed input: every model is stale, and the plan says @train"
printf 'b\n' >data.csv
assert_eq "$(stale_files)" '["clean.csv","model_1.pkl","model_2.pkl","model_3.pkl"]' "stale"
assert_eq "$("$ROAR" status --json | jq -c .plan)" '["roar run @1","roar run @train"]' "plan"

check "roar run @NAME re-runs each current job with its own arguments"
"$ROAR" run -q @1
report=$("$ROAR" run @train 2>&1 >/dev/null)
for i in 1 2 3; do
  assert_contains "$report" "re-running @train: $PY train.py clean.csv model_$i.pkl --lr=0.$i" "re-run of model_$i"
  assert_contains "$(cat model_$i.pkl)" "--lr=0.$i B" "model_$i rebuilt"
done
assert_eq "$(stale_files)" "[]" "nothing stale"
assert_eq "$(dag_json | jq '.nodes[1].executions')" 6 "three more executions of @train"

check "roar run @N --k=v replaces --k in each job, --k v appends where absent"
"$ROAR" run -q @train --lr=0.9
for i in 1 2 3; do assert_eq "$(cut -d' ' -f1 model_$i.pkl)" "--lr=0.9" "model_$i lr replaced"; done
"$ROAR" run -q @2 --seed 7
for i in 1 2 3; do assert_eq "$(cut -d' ' -f1-3 model_$i.pkl)" "--lr=0.9 --seed 7" "model_$i seed appended"; done
assert_eq "$(show_json @train | jq -r '.argv[-2:] | join(" ")')" "--seed 7" "recorded argv"
echo ok
