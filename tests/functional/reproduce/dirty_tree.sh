# A job run in a dirty tree records the diff against HEAD in its
# environment record (`roar env` mentions it); roar reproduce shows it in
# the plan and --run applies it, reproducing bit-for-bit, also for a job
# that ran before the change; one that read a file before it was changed is
# refused (exit 2), as is a diff over 4 MiB (only its size is recorded).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_reproduce.bash"
new_pipeline
commit=$(git rev-parse HEAD)
"$ROAR" run -q "$PY" step1.py data/raw.csv out/a.txt # in the clean tree
sed -i 's/reversed(text.splitlines(True))/sorted(text.splitlines(True))/' step2.py # uncommitted
"$ROAR" run -q "$PY" step2.py out/a.txt out/b.txt
"$ROAR" run -q "$PY" step3.py out/a.txt out/b.txt out/model.txt

check "the job's environment record holds the diff against HEAD"
envj=$("$ROAR" env --json @2)
assert_eq "$(jq -r .git.diff.base <<<"$envj")" "$commit" "base commit"
assert_eq "$(jq -r .git.diff.patch <<<"$envj")" "$(git diff --binary HEAD)" "the patch is git's"
assert_eq "$(jq -r .git.root <<<"$envj")" "$PROJECT" "work tree root"
assert_contains "$("$ROAR" env @2)" "Git diff $(git diff --binary HEAD | wc -c) B of uncommitted changes against ${commit:0:12}" "roar env mentions it"

check "the plan says the tree was dirty and shows the diff"
plan=$("$ROAR" reproduce out/model.txt)
assert_contains "$plan" "tree    dirty: step2.py (recorded diff of" "dirty"
assert_contains "$plan" "+open(sys.argv[2], \"w\").write(\"\".join(sorted(text.splitlines(True))))" "the diff"

check "--run applies the recorded diff and reproduces (step 1 ran before the change and did not read it)"
git_ stash -q # the working tree is clean again: only the record has the change
reproduce_json out/model.txt
assert_eq "$RC" 0 "reproduced (stderr: $ERR)"
dir=$(jq -r .directory <<<"$OUT")
assert_contains "$(cat "$dir/step2.py")" "sorted(" "the diff was applied"
assert_eq "$(b3 "$dir/out/model.txt")" "$(b3 out/model.txt)" "same model"

check "a job that read a file before its uncommitted change is refused (exit 2)"
"$ROAR" run -q "$PY" step1.py data/raw.csv out/a.txt # clean again: the change is stashed
git_ stash pop -q
sed -i 's/r.upper()/r.lower()/' step1.py
"$ROAR" run -q "$PY" step2.py out/a.txt out/b.txt
reproduce_json out/b.txt
assert_eq "$RC" 2 "refused"
assert_contains "$ERR" "read step1.py before it was changed" "says why"
git_ checkout -q step1.py
git_ stash -q

check "a clean tree records no diff"
git_ stash pop -q && git_ commit -q -am "sorted" && "$ROAR" run -q "$PY" step2.py out/a.txt out/b.txt
assert_eq "$("$ROAR" env --json @2 | jq -c '.git | has("diff")')" false "no diff"

check "a diff over 4 MiB is not recorded, and --run refuses saying so"
head -c 3500000 /dev/urandom | base64 >big.txt
git_ add big.txt # staged, not committed: part of git diff HEAD
"$ROAR" run -q "$PY" step1.py data/raw.csv out/a.txt
"$ROAR" run -q "$PY" step2.py out/a.txt out/b.txt
assert_eq "$("$ROAR" env --json @2 | jq -c '[.git.diff.too_large, (.git.diff | has("patch")), .git.diff.bytes > 4194304]')" "[true,false,true]" "only the size"
assert_contains "$("$ROAR" env @2)" "(not recorded: larger than 4 MiB)" "roar env says so"
reproduce_json out/b.txt
assert_eq "$RC" 2 "refused"
assert_contains "$ERR" "larger than the 4 MiB roar records" "says why"
