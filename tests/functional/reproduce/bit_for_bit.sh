# roar reproduce: the plan names the commit, the external input and the
# commands in dependency order; --run rebuilds the final artifact of a
# 3-step pipeline in a fresh checkout and finds every artifact identical.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_reproduce.bash"
new_pipeline
run_pipeline
commit=$(git rev-parse HEAD)
raw=$(b3 data/raw.csv)

check "the plan names the commit, the clean tree, the external input and the jobs in order"
plan=$("$ROAR" reproduce out/model.txt)
assert_contains "$plan" "commit  $commit (main)" "commit"
assert_contains "$plan" "tree    clean" "clean tree"
assert_contains "$plan" "External inputs (1)" "one external input"
assert_contains "$plan" "$PROJECT/data/raw.csv  blake3 ${raw:0:12}" "input with its digest"
assert_contains "$plan" "From the checkout (3)" "the scripts come from the checkout"
order=$(grep '^     ' <<<"$plan" | awk '{print $2, $3}' | tr '\n' ' ')
assert_eq "$order" "step1.py data/raw.csv step2.py out/a.txt step3.py out/a.txt " "commands in dependency order"
assert_contains "$plan" "     $PY step3.py out/a.txt out/b.txt out/model.txt" "exact command"

check "the plan as JSON lists the jobs oldest first with their directories"
pj=$("$ROAR" reproduce --json out/model.txt)
assert_eq "$(jq -r '[.jobs[].argv[1]] | join(" ")' <<<"$pj")" "step1.py step2.py step3.py" "json order"
assert_eq "$(jq -r '.jobs[0].cwd' <<<"$pj")" "$PROJECT" "cwd"
assert_eq "$(jq -r '.git.commit' <<<"$pj")" "$commit" "json commit"
assert_eq "$(jq -r '[.inputs[] | select(.from == "external") | .digest] | join(" ")' <<<"$pj")" "$raw" "json input"

check "--run --json rebuilds in a fresh checkout and reproduces bit-for-bit"
reproduce_json out/model.txt
assert_eq "$RC" 0 "exit status (stderr: $ERR)"
assert_eq "$(jq -c . <<<"$OUT" | jq -r .reproduced)" true "reproduced"
assert_eq "$(jq -c '.differences' <<<"$OUT")" "[]" "no differences"
assert_eq "$(jq -r '.artifacts_compared' <<<"$OUT")" 3 "three artifacts compared"
dir=$(jq -r .directory <<<"$OUT")
assert_eq "$(git -C "$dir" rev-parse HEAD)" "$commit" "the checkout is at the recorded commit"
assert_eq "$(b3 "$dir/out/model.txt")" "$(b3 out/model.txt)" "the rebuilt model is identical"

check "the rebuild is recorded in a store of its own, the original's is untouched"
assert_eq "$(cd "$dir" && "$ROAR" log --json | jq length)" 3 "three jobs in the rebuild's store"
assert_eq "$("$ROAR" log --json | jq length)" 3 "still three jobs in the original"

check "--run in text form says reproduced bit-for-bit, in --dir"
text=$("$ROAR" reproduce --run --dir "$TEST_TMP/again" out/model.txt 2>/dev/null)
assert_contains "$text" "reproduced bit-for-bit: 3 artifacts of 3 jobs match the record (rebuilt in $TEST_TMP/again)" "text"

check "a job reference rebuilds what the job wrote"
reproduce_json @2
assert_eq "$RC" 0 "exit status for @2 (stderr: $ERR)"
assert_eq "$(jq -r .jobs <<<"$OUT")" 2 "two jobs for step 2"

check "--dir that is not empty is refused"
mkdir -p "$TEST_TMP/full" && touch "$TEST_TMP/full/x"
reproduce_json --dir "$TEST_TMP/full" out/model.txt
assert_eq "$RC" 2 "refused"
assert_contains "$ERR" "is not empty" "says why"

check "--dir naming a regular file, even an empty one, is refused in one line and the file is kept"
printf 'notes\n' >"$TEST_TMP/notes.txt"
: >"$TEST_TMP/empty.txt"
for f in notes.txt empty.txt; do
  reproduce_json --dir "$TEST_TMP/$f" out/model.txt
  assert_eq "$RC" 2 "$f refused"
  assert_eq "$ERR" "roar: --dir $TEST_TMP/$f is not a directory: give a new or empty directory" "$f: one line saying why"
  [[ -f $TEST_TMP/$f ]] || fail "$f was replaced"
done
assert_eq "$(cat "$TEST_TMP/notes.txt")" notes "notes.txt keeps its content"
