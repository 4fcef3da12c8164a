# Diamond: two feature extractors read one input, a combiner reads both:
# combine consumes 2 and depends on @1 and @2; re-running one branch with
# new content makes only the combiner stale.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_lineage.bash"
new_project
printf 'id,value\n1,a\n' >input.csv
for s in extract_features_a extract_features_b combine; do write_copy_script $s.py; done
run extract_features_a.py input.csv features_a.csv
run extract_features_b.py input.csv features_b.csv
run combine.py features_a.csv features_b.csv combined.json
d=$(dag_json)
assert_eq "$(jq .total_steps <<<"$d")" 3 "total steps"
assert_eq "$(dag_node "$d" .metrics.consumed combine.py)" 2 "combine consumed"
assert_eq "$(dag_node "$d" .dependencies combine.py)" "[1,2]" "combine dependencies"
assert_eq "$(dag_node "$d" .dependents extract_features_a.py)" "[3]" "a's dependents"
assert_contains "$("$ROAR" dag)" "(also needs @1)" "second parent named in the tree"

# Partial invalidation: only branch a changes.
# The extractor's code changes and so does its output.
echo 'open(sys.argv[-1], "a").write("v2")' >>extract_features_a.py
run extract_features_a.py input.csv features_a.csv
d=$(dag_json)
assert_eq "$(dag_node "$d" .state combine.py)" '"stale"' "combine stale"
assert_eq "$(dag_node "$d" .state extract_features_b.py)" '"active"' "branch b untouched"
assert_eq "$(dag_node "$d" '.stale_reasons[0]' combine.py)" '"features_a.csv was re-produced by @1 with different content"' "reason"
echo ok
