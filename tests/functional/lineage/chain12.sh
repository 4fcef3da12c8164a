# A 12-step chain of numbered scripts (step_1.py ... step_12.py reading
# output_{i-1}.txt): twelve steps, each depending on the previous one.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_lineage.bash"
new_project
printf 'id,value\n1,a\n' >input.csv
for i in $(seq 1 12); do
  in=$([[ $i == 1 ]] && echo input.csv || echo "output_$((i - 1)).txt")
  printf 'd = open("%s").read()\nopen("output_%s.txt", "w").write("Step %s: " + d[:50])\n' "$in" "$i" "$i" >step_$i.py
done
for i in $(seq 1 12); do run step_$i.py; done
d=$(dag_json)
assert_eq "$(jq .total_steps <<<"$d")" 12 "total steps"
assert_eq "$(jq '[.nodes[] | select(.step > 1) | select(.dependencies != [.step - 1])] | length' <<<"$d")" 0 "chain deps"
text=$("$ROAR" dag)
assert_contains "$text" "Pipeline: 12 steps" "text"
assert_contains "$text" "@12 $(basename "$PY") step_12.py" "last step in the tree"
# A change at the head makes the whole chain stale.
printf 'id,value\n1,b\n' >input.csv
assert_eq "$(dag_json | jq .stale_count)" 12 "all stale after the input changed"
echo ok
