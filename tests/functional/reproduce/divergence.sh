# roar reproduce --run: a step that writes the time into its output does
# not reproduce; the report lists the differing artifacts and names that
# step as the first divergence (exit 1).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_reproduce.bash"
new_pipeline
cat >step2.py <<'PY'
import sys, time
text = open(sys.argv[1]).read()
open(sys.argv[2], "w").write("".join(reversed(text.splitlines(True))) + "built at %.9f\n" % time.time())
PY
git_ commit -q -am "step 2 stamps the time"
run_pipeline
step2=$(show_json @2 | jq -r .job_id)
step3=$(show_json @3 | jq -r .job_id)

check "the time-stamping step is the first divergence and its output differs"
reproduce_json out/model.txt
assert_eq "$RC" 1 "exit status 1 (stderr: $ERR)"
assert_eq "$(jq -r .reproduced <<<"$OUT")" false "not reproduced"
assert_eq "$(jq -r .first_divergent_job <<<"$OUT")" "$step2" "first divergent job"
assert_eq "$(jq -r '.differences[0].job' <<<"$OUT")" "$step2" "first difference is step 2's"
assert_eq "$(jq -r '.differences[0].path' <<<"$OUT")" "$PROJECT/out/b.txt" "its path"
assert_eq "$(jq -r '.differences[0].recorded' <<<"$OUT")" "$(b3 out/b.txt)" "recorded digest"
assert_ne "$(jq -r '.differences[0].rebuilt' <<<"$OUT")" "$(b3 out/b.txt)" "rebuilt digest differs"
assert_eq "$(jq -r '[.differences[].job] | join(" ")' <<<"$OUT")" "$step2 $step3" "step 3's model differs too"
assert_eq "$(jq -r '.differences[0] | keys | join(",")' <<<"$OUT")" "job,path,rebuilt,recorded" "difference keys"

check "the text report names the first divergent step and the artifacts"
set +e
text=$("$ROAR" reproduce --run --dir "$TEST_TMP/text" out/model.txt 2>/dev/null)
rc=$?
set -e
assert_eq "$rc" 1 "text exit status"
assert_contains "$text" "not reproduced: 2 of 3 artifacts differ" "summary"
assert_contains "$text" "first divergence: @2 (${step2:0:8})  $PY step2.py out/a.txt out/b.txt" "first divergence"

check "a job roar could not run (the store its committed roar.toml names is unreachable) is a setup failure: exit 2 naming why, not a divergence"
# roar.toml is committed naming a store nobody listens at; the original
# keeps its own settings (git is told to ignore the local change), so only
# the rebuild's `roar run` meets the committed one.
cp roar.toml "$TEST_TMP/roar.toml.kept"
"$ROAR" config set store.url postgresql://roar@127.0.0.1:1/roar >/dev/null
git_ add roar.toml
git_ commit -q -m "roar.toml names an unreachable store"
cp "$TEST_TMP/roar.toml.kept" roar.toml
git_ update-index --assume-unchanged roar.toml
"$ROAR" run -q sh -c 'cat data/raw.csv > out/solo.txt'
solo=$(last_job | jq -r .job_id)
solo_step=$(last_job | jq -r .step)
reproduce_json out/solo.txt
assert_eq "$RC" 2 "exit status 2 (stdout: $OUT)"
assert_contains "$ERR" "roar: @$solo_step (${solo:0:8}) was not rebuilt as recorded: roar run exited 1 and the rebuild's record cannot be read (cannot connect to the store postgresql://roar@127.0.0.1:1/roar" "names the job and why"
assert_not_contains "$ERR" "not reproduced" "not reported as a divergence"
assert_eq "$(jq -r .reproduced <<<"$OUT")" false "JSON: not reproduced"
assert_contains "$(jq -r .refused <<<"$OUT")" "cannot connect to the store" "JSON: why"
assert_eq "$(jq -c .differences <<<"$OUT")" "[]" "JSON: no differences claimed"
