# Steps group runs the way people think of them: runs of one program
# writing the same output paths are one step, whatever their options
# (--lr 0.1 then 0.5, --opt adam then sgd); runs writing different outputs
# (model_1 vs model_3, par1..4 written in parallel, a renamed output) are
# different steps. Each case is checked on `roar dag --json` and on what is
# stale in `roar status --json`.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_lineage.bash"
new_project
printf 'x\n' >data.csv
cat >train.py <<'PY'
import sys
open(sys.argv[2], "w").write(" ".join(sys.argv[3:]) + open(sys.argv[1]).read())
PY
write_copy_script other.py
steps() { dag_json | jq .total_steps; }
stale_files() { "$ROAR" status --json | jq -c '[.stale_artifacts[] | ltrimstr("'"$PROJECT"'/")] | sort'; }

check "same program, same outputs, different option values: one step"
run train.py data.csv model.pkl --lr 0.1
run train.py data.csv model.pkl --lr 0.5
assert_eq "$(steps)" 1 "steps"
assert_eq "$(dag_json | jq '.nodes[0].executions')" 2 "executions"

check "same program, same outputs, different option words: one step"
run train.py data.csv model.pkl --opt adam
run train.py data.csv model.pkl --opt sgd
assert_eq "$(steps)" 1 "steps"
assert_eq "$(dag_json | jq '.nodes[0].executions')" 4 "executions"

check "same program, different outputs: different steps"
run train.py data.csv model_1.pkl --lr=0.01
run train.py data.csv model_3.pkl --lr=0.03
assert_eq "$(steps)" 3 "steps"
assert_eq "$(dag_json | jq -c '[.nodes[].command | split(" ")[3]]')" '["model.pkl","model_1.pkl","model_3.pkl"]' "outputs per step"

check "a different program writing the same output: a different step"
run other.py data.csv model.pkl
assert_eq "$(steps)" 4 "steps"

check "parallel runs writing par1..4.txt: four steps, each current"
for i in 1 2 3 4; do run train.py data.csv par$i.txt --part $i & done
wait
d=$(dag_json)
assert_eq "$(jq .total_steps <<<"$d")" 8 "steps"
assert_eq "$(jq -c '[.nodes[] | select(.command | contains("par")) | .executions] | add' <<<"$d")" 4 "one execution each"

check "a changed input makes every parallel output stale, and the plan re-runs each"
printf 'y\n' >data.csv
assert_eq "$(stale_files)" '["model.pkl","model_1.pkl","model_3.pkl","par1.txt","par2.txt","par3.txt","par4.txt"]' "stale"
mapfile -t plan < <("$ROAR" status --json | jq -r '.plan[]')
# model.pkl was last written by other.py: train.py's model.pkl step is superseded, not planned.
assert_eq "${#plan[@]}" 7 "one plan entry per stale step"
assert_eq "$(dag_json | jq -r '.nodes[0].state')" superseded "train.py's model.pkl step"
for step in "${plan[@]}"; do "$ROAR" run -q "${step#roar run }" || fail "$step failed"; done
assert_eq "$(stale_files)" "[]" "nothing stale after the plan"
assert_eq "$("$ROAR" status --json | jq -c '[.plan, .stale_steps]')" "[[],[]]" "no plan left"

check "a renamed output is a new step; the old file is not reported stale by it"
run train.py data.csv model_v2.pkl --lr 0.5
assert_eq "$(steps)" 9 "steps"
printf 'z\n' >data.csv
assert_contains "$(stale_files)" '"model_v2.pkl"' "the new output is stale too"

check "scripts named through '..' after a symbolic link are the files the job read: step_1.py and step_2.py are two steps"
new_project dotdot
mkdir -p real/sub
ln -s real/sub alias
printf 'x\n' >data.csv
write_copy_script real/step_1.py
write_copy_script real/step_2.py
run alias/../step_1.py data.csv out.txt
run alias/../step_2.py data.csv out.txt
assert_eq "$(steps)" 2 "steps"
echo ok
