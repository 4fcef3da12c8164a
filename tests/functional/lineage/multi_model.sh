# Multi-model comparison: three trainers (scripts with fixed file names)
# read one input; select_best reads the three models.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_lineage.bash"
new_project
printf 'id,value\n1,a\n' >input.csv
for m in rf xgb nn; do
  printf 'import sys\nd = open("input.csv").read()\nopen(sys.argv[1], "w").write("%s:" + d)\n' "$m" >train_$m.py
done
cat >select_best.py <<'PY'
models = [open(m).read() for m in ("model_rf.pkl", "model_xgb.pkl", "model_nn.pkl")]
open("model.pkl", "w").write(max(models))
PY
for m in rf xgb nn; do run train_$m.py model_$m.pkl; done
run select_best.py
d=$(dag_json)
assert_eq "$(jq .total_steps <<<"$d")" 4 "total steps"
assert_eq "$(dag_node "$d" .metrics.consumed select_best.py)" 3 "select_best consumed"
assert_eq "$(dag_node "$d" .dependencies select_best.py)" "[1,2,3]" "select_best dependencies"
assert_eq "$(dag_node "$d" .dependencies train_rf.py)" "[]" "a trainer has no upstream step"
echo ok
