# Hyperparameter variants: one script, different --lr/--epochs and output
# files, are separate steps; the same variant re-run is the same step.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_lineage.bash"
new_project
printf 'id,value\n1,a\n' >input.csv
write_copy_script preprocess.py
cat >train.py <<'PY'
import json, sys
src, out = sys.argv[1], sys.argv[2]
opts = dict(a[2:].split("=") for a in sys.argv[3:])
json.dump({"lr": float(opts["lr"]), "epochs": int(opts["epochs"]), "n": len(open(src).read())}, open(out, "w"))
PY
run preprocess.py input.csv processed.csv
run train.py processed.csv model_fast.pkl --lr=0.1 --epochs=5
run train.py processed.csv model_medium.pkl --lr=0.01 --epochs=50
run train.py processed.csv model_slow.pkl --lr=0.001 --epochs=100
d=$(dag_json)
assert_eq "$(jq .total_steps <<<"$d")" 4 "one step per variant"
assert_eq "$(jq -c '[.nodes[] | select(.command | contains("train.py")) | .dependencies]' <<<"$d")" "[[1],[1],[1]]" "deps"
run train.py processed.csv model_slow.pkl --lr=0.002 --epochs=200
d=$(dag_json)
assert_eq "$(jq .total_steps <<<"$d")" 4 "a re-run of a variant is not a new step"
assert_eq "$(dag_node "$d" .executions model_slow)" 2 "executions of the slow variant"
assert_eq "$(jq .epochs model_slow.pkl)" 200 "variant output"
lin=$("$ROAR" show --json --lineage model_slow.pkl)
assert_eq "$(jq -r '[.lineage.jobs[].command] | join(";")' <<<"$lin")" \
  "$PY train.py processed.csv model_slow.pkl --lr=0.002 --epochs=200;$PY preprocess.py input.csv processed.csv" "lineage commands"
echo ok
