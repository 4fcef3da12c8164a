# The hyperparameter sweep of issue 15, with its exact commands: three
# training runs writing model_1..3.pkl are three steps; after input.csv
# changes every derived file is stale, `roar status` plans every stale step
# in dependency order, and following that plan leaves nothing stale. The
# issue's old advice (@1, @2, @3 only) leaves model_3.pkl and best.json
# reported stale, never up to date.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_lineage.bash"
new_project
# `python3` in the commands is the real interpreter (no pyenv shim).
mkdir -p "$TEST_TMP/bin" && ln -s "$PY" "$TEST_TMP/bin/python3" && export PATH="$TEST_TMP/bin:$PATH"
printf 'id,value\n1,a\n2,b\n' >input.csv
cat >preprocess.py <<'PY'
import sys
open(sys.argv[2], "w").write(open(sys.argv[1]).read().upper())
PY
cat >train.py <<'PY'
import sys
lr = [a.split("=")[1] for a in sys.argv if a.startswith("--lr=")][0]
open(sys.argv[2], "w").write(f"lr={lr} " + open(sys.argv[1]).read())
PY
cat >combine.py <<'PY'
import json, sys
json.dump({p: open(p).read() for p in sys.argv[1:-1]}, open(sys.argv[-1], "w"))
PY
roar() { "$ROAR" "$@"; }
stale_files() { roar status --json | jq -c '[.stale_artifacts[] | ltrimstr("'"$PROJECT"'/")] | sort'; }

roar run -q python3 preprocess.py input.csv processed.csv
for i in 1 2 3; do roar run -q python3 train.py processed.csv model_$i.pkl --lr=0.0$i; done
roar run -q python3 combine.py model_1.pkl model_2.pkl model_3.pkl best.json

check "runs writing different outputs are different steps"
d=$(roar dag --json)
assert_eq "$(jq .total_steps <<<"$d")" 5 "steps"
assert_eq "$(jq -c '[.nodes[] | .executions]' <<<"$d")" "[1,1,1,1,1]" "one execution each"
assert_eq "$(jq -c '[.nodes[] | select(.command | contains("train.py")) | .step]' <<<"$d")" "[2,3,4]" "train steps"

check "a fresh sweep has nothing stale"
assert_eq "$(stale_files)" "[]" "no stale files"
assert_eq "$(roar status --json | jq -c .plan)" "[]" "empty plan"
assert_eq "$(jq -c '[.nodes[].is_stale]' <<<"$d")" "[false,false,false,false,false]" "no stale step"

printf 'id,value\n1,a\n2,CHANGED\n' >input.csv

check "every derived file is stale after input.csv changed"
assert_eq "$(stale_files)" '["best.json","model_1.pkl","model_2.pkl","model_3.pkl","processed.csv"]' "stale files"
st=$(roar status --json)
assert_eq "$(jq -c '[.stale_steps[].step]' <<<"$st")" "[1,2,3,4,5]" "stale steps"
assert_eq "$(jq -c '[.stale_jobs[].step]' <<<"$st")" "[1,2,3,4,5]" "stale jobs"
assert_eq "$(jq -c .plan <<<"$st")" '["roar run @1","roar run @2","roar run @3","roar run @4","roar run @5"]' "plan"
assert_contains "$(roar status)" "To bring them up to date, in order: roar run @1; roar run @2; roar run @3; roar run @4; roar run @5" "plan text"
d=$(roar dag --json)
assert_eq "$(jq -c '[.nodes[].is_stale]' <<<"$d")" "[true,true,true,true,true]" "dag is_stale per step"
assert_eq "$(jq -c '[.nodes[].jobs[].is_stale]' <<<"$d")" "[true,true,true,true,true]" "dag is_stale per job"
assert_eq "$(jq -r '[.artifacts[] | select(.display_path == "best.json")][0] | [.is_stale, .job_uid == .producer.job_id, (.hash | length)] | @tsv' <<<"$d")" \
  "$(printf 'true\ttrue\t64')" "best.json: is_stale, job_uid, hash"
assert_eq "$(roar dag --stale-only --json | jq -c '[.nodes[].step]')" "[1,2,3,4,5]" "dag --stale-only"

check "the issue's old advice (@1, @2, @3) leaves model_3.pkl and best.json stale, and says so"
report=$(roar run @1 2>&1 >/dev/null)
assert_contains "$report" "Downstream steps are stale: @2, @3, @4, @5" "post-run hint names every stale step in order"
roar run -q @2
roar run -q @3
assert_eq "$(stale_files)" '["best.json","model_3.pkl"]' "still stale"
assert_eq "$(roar status --json | jq -c .plan)" '["roar run @4","roar run @5"]' "remaining plan"

check "following the printed plan leaves nothing stale"
printf 'id,value\n1,again\n' >input.csv
mapfile -t plan < <(roar status --json | jq -r '.plan[]')
assert_eq "${#plan[@]}" 5 "plan length"
for step in "${plan[@]}"; do
  eval "$step" >/dev/null 2>&1 || fail "'$step' failed"
done
assert_eq "$(stale_files)" "[]" "no stale files after the plan"
st=$(roar status --json)
assert_eq "$(jq -c '[.plan, .stale_steps, .stale_jobs]' <<<"$st")" "[[],[],[]]" "nothing to do"
assert_eq "$(roar dag --json | jq .stale_count)" 0 "dag: nothing stale"
assert_contains "$(cat best.json)" "AGAIN" "best.json built from the new input"
assert_contains "$(roar status)" "Stale steps: none" "status text"
echo ok
