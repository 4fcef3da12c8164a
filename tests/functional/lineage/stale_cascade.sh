# Staleness: editing a source makes its consumer stale and everything
# downstream; re-running the head says which later steps are now stale;
# --stale-only and status explain why; re-running them clears it.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_lineage.bash"
new_project
printf 'id,value\n1,a\n' >input.csv
printf 'id\n1\n' >test.csv
for s in preprocess train evaluate; do write_copy_script $s.py; done
run preprocess.py input.csv processed.csv
run train.py processed.csv model.pkl
run evaluate.py model.pkl test.csv metrics.json
assert_eq "$(dag_json | jq .stale_count)" 0 "fresh pipeline"

printf 'id,value\n1,new_data\n2,changed\n' >input.csv
d=$(dag_json)
assert_eq "$(jq -c '[.nodes[] | .state]' <<<"$d")" '["stale","stale","stale"]' "cascade from a changed source"
assert_eq "$(dag_node "$d" '.stale_reasons[0]' preprocess.py)" '"input.csv changed on disk since it was read"' "reason @1"
assert_eq "$(dag_node "$d" '.stale_reasons[0]' evaluate.py)" '"upstream step @2 is stale"' "reason @3"
st=$("$ROAR" status --json)
assert_eq "$(jq -r '.files[] | select(.path | endswith("/input.csv")) | .state' <<<"$st")" modified "input.csv on disk"
assert_contains "$("$ROAR" status)" "modified  input.csv" "status text"

# Re-running the head: the report names the steps now stale.
report=$("$ROAR" run "$PY" preprocess.py input.csv processed.csv 2>&1 >/dev/null)
assert_contains "$report" "Downstream steps are stale: @2, @3" "stale report after run"
d=$(dag_json)
assert_eq "$(jq -c '[.nodes[] | .state]' <<<"$d")" '["active","stale","stale"]' "after re-running @1"
assert_eq "$(dag_node "$d" '.stale_reasons[0]' train.py)" '"processed.csv was re-produced by @1 with different content"' "reason @2"
assert_eq "$(jq '[.artifacts[] | select(.display_path == "metrics.json")][0].state' <<<"$d")" '"stale"' "stale artifact"
so=$(dag_json --stale-only)
assert_eq "$(jq -c '[.nodes[].step]' <<<"$so")" "[2,3]" "stale-only nodes"
sotext=$("$ROAR" dag --stale-only)
assert_contains "$sotext" "processed.csv was re-produced by @1" "stale-only text gives the reason"
assert_contains "$("$ROAR" dag)" "Pipeline: 3 steps (2 stale)" "header"
# Expanded: the old execution of @1 is superseded.
ex=$(dag_json --expanded)
assert_eq "$(jq -c '[.nodes[] | select(.step == 1) | .state]' <<<"$ex")" '["superseded","active"]' "expanded @1"

# Re-running @2 with the same command warns nothing upstream is stale, then @3.
report=$("$ROAR" run @2 2>&1 >/dev/null)
assert_contains "$report" "Downstream steps are stale: @3" "after @2"
assert_not_contains "$report" "depends on stale" "no upstream warning for @2"
"$ROAR" run -q @3
assert_eq "$(dag_json | jq .stale_count)" 0 "up to date again"
assert_contains "$("$ROAR" status)" "Stale steps: none" "status after"
echo ok
