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
