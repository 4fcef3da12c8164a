# A job reading 2,000 data files (and its script): roar run's report lists
# the first few, then "... and 1,996 more" with the rest grouped by
# directory; roar show cuts at 50 the same way, --all lists every one,
# --json always has them all.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lineage/lib_lineage.bash"
new_project
mkdir -p data/train data/val
"$PY" - <<'PY'
for i in range(1990):
    open(f"data/train/t{i:04d}.csv", "w").write("x" * 4096)
for i in range(10):
    open(f"data/val/v{i}.csv", "w").write("y" * 10)
PY
# By name, not listed: a listed directory read whole would be one dataset
# entry (lineage/datasets.sh).
cat >read_all.py <<'PY'
paths = [f"data/train/t{i:04d}.csv" for i in range(1990)] + [f"data/val/v{i}.csv" for i in range(10)]
for p in paths:
    open(p).read()
open("model.bin", "w").write("m")
PY
"$ROAR" --no-color run "$PY" read_all.py 2>report.txt
report=$(cat report.txt)
uid=$("$ROAR" log --json | jq -r '.[-1].job_id')

check "the run report lists the first inputs and counts the rest"
assert_eq "$(grep -c '^  in   data/' report.txt)" 5 "five inputs listed"
assert_contains "$report" "in   ... and 1,996 more ('roar show $uid --all' lists every one):" "the rest counted"

check "the rest is grouped by directory with sizes"
assert_contains "$report" "data/train/  1,985 files, 7.8 MiB" "train directory"
assert_contains "$report" "data/val/    10 files, 100 B" "val directory"
assert_contains "$report" "./           1 file, " "the script, at the top"
assert_contains "$report" "out  model.bin" "the single output is listed"

check "roar show cuts at 50 and groups the rest"
text=$("$ROAR" --no-color show "$uid")
assert_contains "$text" "Inputs (2001)" "input count"
assert_contains "$text" "... and 1,951 more ('--all' lists every one; '--json' has them all)" "cut line"
assert_contains "$text" "data/train/  1,940 files, 7.6 MiB" "grouped rest"

check "--all lists every input and --json has them all"
assert_eq "$("$ROAR" --no-color show "$uid" --all | grep -c '^  data/')" 2000 "--all"
assert_eq "$(show_json "$uid" | jq '.inputs | length')" 2001 "--json"
echo ok
