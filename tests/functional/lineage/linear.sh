# A linear pipeline (preprocess -> train -> evaluate): three steps in a
# chain, each consuming the previous one's output; text tree and JSON.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_lineage.bash"
new_project
printf 'id,value\n1,a\n2,b\n' >input.csv
printf 'id\n1\n' >test.csv
for s in preprocess train evaluate; do write_copy_script $s.py; done
run preprocess.py input.csv processed.csv
run train.py processed.csv model.pkl
run evaluate.py model.pkl test.csv metrics.json

d=$(dag_json)
assert_eq "$(jq .total_steps <<<"$d")" 3 "total steps"
assert_eq "$(jq .stale_count <<<"$d")" 0 "stale count"
assert_eq "$(jq -c '[.nodes[].step]' <<<"$d")" "[1,2,3]" "step numbers"
assert_eq "$(dag_node "$d" .dependencies train.py)" "[1]" "train depends on @1"
assert_eq "$(dag_node "$d" .dependencies evaluate.py)" "[2]" "evaluate depends on @2"
assert_eq "$(dag_node "$d" .metrics.consumed evaluate.py)" 1 "evaluate consumed (test.csv is a source)"
assert_eq "$(dag_node "$d" .metrics.inputs evaluate.py)" 3 "evaluate inputs: model, test.csv, script"
assert_eq "$(dag_node "$d" .state train.py)" '"active"' "train state"
assert_eq "$(dag_node "$d" .job_id train.py)" "\"$(show_json @2 | jq -r .job_id)\"" "node job id"
# Default artifacts: the terminal output only.
assert_eq "$(jq -r '[.artifacts[].display_path] | join(",")' <<<"$d")" "metrics.json" "terminal artifacts"
assert_eq "$(jq -r '.artifacts[0].digest' <<<"$d")" "$(b3 metrics.json)" "artifact digest"
assert_eq "$(jq -r '.artifacts[0].producer.step' <<<"$d")" 3 "metrics.json producer"
# --show-artifacts: intermediates with their consumers, and sources.
all=$(dag_json --show-artifacts)
assert_eq "$(jq -c '[.artifacts[] | select(.display_path == "processed.csv")][0] | [.is_terminal, .consumer_steps]' <<<"$all")" \
  "[false,[2]]" "processed.csv consumed by @2"
assert_eq "$(jq -r '[.artifacts[] | select(.display_path == "input.csv")][0].producer' <<<"$all")" null "input.csv is a source"

text=$("$ROAR" dag)
assert_contains "$text" "Pipeline: 3 steps" "dag text"
assert_contains "$text" "@1 $(basename "$PY") preprocess.py input.csv processed.csv" "root line"
assert_contains "$text" "└──>@2 $(basename "$PY") train.py processed.csv model.pkl" "child line"
assert_contains "$text" "    └──>@3 $(basename "$PY") evaluate.py model.pkl test.csv metrics.json" "grandchild line"
assert_contains "$text" "in:2 out:1" "counts"
assert_contains "$text" "stale:" "legend"
assert_not_contains "$("$ROAR" --no-color dag)" $'\033[' "no colour"

st=$("$ROAR" status --json)
assert_eq "$(jq '.counts.present' <<<"$st")" 8 "present files (5 data + 3 scripts)"
assert_eq "$(jq '.stale_steps | length' <<<"$st")" 0 "nothing stale"
assert_contains "$("$ROAR" status)" "Stale steps: none" "status text"

# show: the lineage of the model, to the roots.
lin=$("$ROAR" show --json --lineage metrics.json)
assert_eq "$(jq -r '.lineage.produced_by' <<<"$lin")" "$(show_json @3 | jq -r .job_id)" "lineage top"
assert_eq "$(jq -c '[.lineage.jobs[].step]' <<<"$lin")" "[3,2,1]" "lineage jobs"
assert_eq "$(jq -r '[.lineage.roots[].path | split("/") | last] | sort | join(",")' <<<"$lin")" \
  "evaluate.py,input.csv,preprocess.py,test.csv,train.py" "lineage roots"
ltext=$("$ROAR" show --lineage metrics.json)
assert_contains "$ltext" "← @1 $(basename "$PY") preprocess.py" "lineage text"
assert_contains "$ltext" "input.csv" "lineage text source"
echo ok
