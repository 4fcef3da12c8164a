# Staleness in shapes other than a sweep, each asserting exactly which
# files are stale before and after following `roar status`'s plan: a
# diamond where one branch is re-run with a different argument, and a
# failed run between two good ones (the failure makes nothing stale; the
# good run after it does).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_lineage.bash"
stale_files() { "$ROAR" status --json | jq -c '[.stale_artifacts[] | ltrimstr("'"$PROJECT"'/")] | sort'; }
follow_plan() {
  local step
  mapfile -t plan < <("$ROAR" status --json | jq -r '.plan[]')
  for step in "${plan[@]}"; do "$ROAR" run -q "${step#roar run }" || fail "$step failed"; done
}
cat >"$TEST_TMP/branch.py" <<'PY'
import sys
open(sys.argv[2], "w").write(" ".join(sys.argv[3:]) + open(sys.argv[1]).read())
PY

check "diamond: re-running one branch with another argument makes only the join stale"
new_project diamond
printf 'x\n' >in.csv
cp "$TEST_TMP/branch.py" a.py && cp "$TEST_TMP/branch.py" b.py
write_copy_script prep.py && write_copy_script join.py
run prep.py in.csv base.csv
run a.py base.csv A.txt --k=1
run b.py base.csv B.txt --k=1
run join.py A.txt B.txt out.txt
assert_eq "$(stale_files)" "[]" "fresh"
"$ROAR" run -q @2 --k=2
assert_eq "$(stale_files)" '["out.txt"]' "only the join's output"
assert_eq "$("$ROAR" status --json | jq -c .plan)" '["roar run @4"]' "plan"
assert_eq "$(dag_json | jq -c '[.nodes[].is_stale]')" "[false,false,false,true]" "dag"
follow_plan
assert_eq "$(stale_files)" "[]" "after the plan"
assert_contains "$(cat out.txt)" "--K=2" "join built from the re-run branch"

check "a failed run between two good ones makes nothing stale; the good run after it does"
new_project failed
printf 'x\n' >in.csv
cat >train.py <<'PY'
import os, sys
data = open(sys.argv[1]).read()
if os.environ.get("SHOULD_FAIL"):
    sys.exit("failed")
open(sys.argv[2], "w").write(" ".join(sys.argv[3:]) + data)
PY
write_copy_script evaluate.py
run train.py in.csv model.pkl --lr=0.1
run evaluate.py model.pkl metrics.json
set +e
SHOULD_FAIL=1 "$ROAR" run -q "$PY" train.py in.csv model.pkl --lr=0.2 2>/dev/null
set -e
assert_eq "$(dag_json | jq .total_steps)" 2 "the failed run joined the step"
assert_eq "$(stale_files)" "[]" "the failure changed nothing"
assert_eq "$(dag_json | jq -c '[.nodes[0].exit_code, .nodes[0].is_stale]')" "[0,false]" "the good run is still current"
run train.py in.csv model.pkl --lr=0.3
assert_eq "$(stale_files)" '["metrics.json"]' "the next good run made the evaluation stale"
follow_plan
assert_eq "$(stale_files)" "[]" "after the plan"
echo ok

check "an input changed in place with its size and mtime put back (cp -p): status sees it, a new run records the new bytes"
new_project inplace
write_copy_script copy.py
printf 'label,0\n' >data.csv
printf 'label,1\n' >v2.csv
touch -d '2020-01-02 03:04:05' data.csv v2.csv
run copy.py data.csv out.txt
assert_eq "$(stale_files)" "[]" "fresh"
inode=$(stat -c %i data.csv)
cp -p v2.csv data.csv # into the same inode, then size and mtime as they were
assert_eq "$(stat -c '%i %s %Y' data.csv)" "$inode 8 $(stat -c %Y v2.csv)" "same inode, size and mtime"
s=$("$ROAR" status --json)
assert_eq "$(jq -r '.files[] | select(.path | endswith("/data.csv")) | .state' <<<"$s")" modified "status: modified"
assert_eq "$(stale_files)" '["out.txt"]' "the copy's output is stale"
"$ROAR" run -q cat data.csv >/dev/null
assert_eq "$(io_digest "$(last_job)" inputs "$PWD/data.csv")" "$(b3 data.csv)" "the new run's input is the new bytes"

check "a tracked input replaced by a directory or a FIFO is reported modified, and its reader stale"
new_project kinds
write_copy_script copy.py
printf 'a\n' >a.txt
printf 'b\n' >b.txt
run copy.py a.txt b.txt out.txt
rm a.txt b.txt
mkdir a.txt
mkfifo b.txt
s=$("$ROAR" status --json)
assert_eq "$(jq -c '[.files[] | select(.path | test("/[ab][.]txt$")) | [.state, .disk_kind]] | sort' <<<"$s")" \
  '[["modified","FIFO"],["modified","directory"]]' "both modified, with what stands there"
assert_eq "$(stale_files)" '["out.txt"]' "the reader's output is stale"
t=$("$ROAR" status)
assert_contains "$t" "now a directory" "text: the directory"
assert_contains "$t" "now a FIFO" "text: the FIFO"
assert_contains "$t" "2 modified" "counted"
