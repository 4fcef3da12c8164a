# Feature-engineering fan-in: three extractors, a combiner reading all
# three, a trainer on the combination: five steps, combine consumes 3.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_lineage.bash"
new_project
printf 'id,value\n1,a\n' >input.csv
for s in extract_features_a extract_features_b extract_features_c combine train; do write_copy_script $s.py; done
for x in a b c; do run extract_features_$x.py input.csv features_$x.csv; done
run combine.py features_a.csv features_b.csv features_c.csv combined.json
run train.py combined.json model.pkl
d=$(dag_json)
assert_eq "$(jq .total_steps <<<"$d")" 5 "total steps"
assert_eq "$(dag_node "$d" .metrics.consumed combine.py)" 3 "combine consumed"
assert_eq "$(dag_node "$d" .dependencies combine.py)" "[1,2,3]" "combine dependencies"
assert_eq "$(dag_node "$d" .dependencies train.py)" "[4]" "train dependencies"
assert_eq "$(jq -r '[.artifacts[].display_path] | join(",")' <<<"$d")" model.pkl "terminal artifact"
text=$("$ROAR" dag)
assert_contains "$text" "Pipeline: 5 steps" "text"
assert_contains "$text" "consumed:3" "text consumed"
echo ok
