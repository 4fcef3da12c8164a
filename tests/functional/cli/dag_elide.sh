# roar dag cuts long commands in the middle, not at the end: runs that
# differ only in their last arguments stay distinguishable; --json keeps
# the full command.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lineage/lib_lineage.bash"
new_project
write_copy_script train.py
mkdir -p data/a/very/long/directory/name/for/the/processed/inputs
echo raw >data/a/very/long/directory/name/for/the/processed/inputs/processed.csv
long=data/a/very/long/directory/name/for/the/processed/inputs/processed.csv
for i in 1 2 3; do run train.py "$long" "model_$i.pkl"; done

check "each run's distinguishing tail is visible in roar dag"
text=$("$ROAR" --no-color dag)
for i in 1 2 3; do
  assert_contains "$text" "model_$i.pkl" "model_$i.pkl in the tree"
done
assert_contains "$text" "python3 train.py ... " "the middle is elided"

check "no two steps print the same command"
lines=$(grep -o 'python3 train.py[^ ]* .*' <<<"$text" | sed 's/  .*//' | sort)
assert_eq "$(uniq <<<"$lines" | wc -l)" "$(wc -l <<<"$lines")" "distinct lines"

check "--json keeps the full command"
assert_eq "$(dag_json | jq -r '[.nodes[].command | select(contains("model_3.pkl"))][0] | contains("processed/inputs/processed.csv")')" true "full command"
echo ok
