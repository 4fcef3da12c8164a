# Ensemble: base models a, b, c from one input; the ensemble reads the
# three models and the input itself (a source, so not "consumed").
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_lineage.bash"
new_project
printf 'id,value\n1,a\n' >input.csv
for m in a b c; do
  printf 'd = open("input.csv").read()\nopen("model_%s.pkl", "w").write("%s" + d)\n' "$m" "$m" >train_model_$m.py
done
cat >train_ensemble.py <<'PY'
parts = [open(f"model_{n}.pkl").read() for n in "abc"] + [open("input.csv").read()]
open("model.pkl", "w").write("|".join(parts))
PY
for m in a b c; do run train_model_$m.py; done
run train_ensemble.py
d=$(dag_json)
assert_eq "$(jq .total_steps <<<"$d")" 4 "total steps"
assert_eq "$(dag_node "$d" .metrics.consumed train_ensemble.py)" 3 "ensemble consumed"
assert_eq "$(dag_node "$d" .metrics.inputs train_ensemble.py)" 5 "ensemble inputs (3 models, input, script)"
assert_eq "$(dag_node "$d" .dependencies train_ensemble.py)" "[1,2,3]" "ensemble dependencies"
echo ok
