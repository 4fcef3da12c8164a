# roar reproduce and outputs outside the repository: the plan lists them;
# --run refuses (exit 2, one line naming them, nothing touched) because the
# rebuild would write them in place over the user's files; with
# --allow-outside-writes it rebuilds them there and compares them like the
# others: the deterministic one matches, the time-stamped one is a
# difference entry with its path.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_reproduce.bash"
new_pipeline
outside=$TEST_TMP/elsewhere
mkdir -p "$outside"
cat >export.py <<'PY'
import sys, time
text = open(sys.argv[1]).read()
open(sys.argv[2] + "/summary.txt", "w").write(f"{len(text)} bytes\n")
open(sys.argv[2] + "/stamp.txt", "w").write(f"{time.time_ns()}\n")
open(sys.argv[3], "w").write(text.lower())
PY
git_ add export.py
git_ commit -q -m export
"$ROAR" run -q "$PY" step1.py data/raw.csv out/a.txt
"$ROAR" run -q "$PY" export.py out/a.txt "$outside" out/final.txt

check "the plan lists the outputs written outside the repository"
plan=$("$ROAR" reproduce out/final.txt)
assert_contains "$plan" "Outputs outside the repository (2): --run writes them in place, so it refuses unless --allow-outside-writes" "section"
assert_contains "$plan" "  $outside/summary.txt  (job " "summary.txt"
assert_contains "$plan" "  $outside/stamp.txt  (job " "stamp.txt"
assert_eq "$("$ROAR" reproduce --json out/final.txt | jq -r '[.outside_outputs[].path] | sort | join(" ")')" \
  "$outside/stamp.txt $outside/summary.txt" "JSON outside_outputs"
assert_eq "$("$ROAR" reproduce --json out/a.txt | jq -c .outside_outputs)" "[]" "none for a target upstream of them"

check "--run refuses with exit 2 and one line naming them, and touches nothing"
stamp_before=$(b3 "$outside/stamp.txt")
before=$(find "$TEST_TMP" -maxdepth 1 -name 'roar-reproduce-*' | wc -l)
reproduce_json out/final.txt
assert_eq "$RC" 2 "refused (stdout: $OUT)"
assert_eq "$(wc -l <<<"$ERR")" 1 "one line: $ERR"
assert_contains "$ERR" "roar: the jobs write outside the repository, where a rebuild would overwrite the files in place: " "why"
assert_contains "$ERR" "$outside/summary.txt" "names summary.txt"
assert_contains "$ERR" "$outside/stamp.txt" "names stamp.txt"
assert_contains "$ERR" "give --allow-outside-writes" "what to do"
assert_eq "$(jq -r .reproduced <<<"$OUT")" false "JSON says not reproduced"
assert_eq "$(b3 "$outside/stamp.txt")" "$stamp_before" "stamp.txt untouched"
assert_eq "$(find "$TEST_TMP" -maxdepth 1 -name 'roar-reproduce-*' | wc -l)" "$before" "nothing was checked out"

check "with --allow-outside-writes they are rebuilt in place and compared: the stamp differs, with its path"
reproduce_json --allow-outside-writes out/final.txt
assert_eq "$RC" 1 "not reproduced (stderr: $ERR)"
assert_eq "$(jq -r .artifacts_compared <<<"$OUT")" 4 "a.txt, final.txt and both outside files compared"
assert_eq "$(jq -r '[.differences[].path] | join(" ")' <<<"$OUT")" "$outside/stamp.txt" "only the stamp differs"
assert_eq "$(jq -r '.differences[0].rebuilt' <<<"$OUT")" "$(b3 "$outside/stamp.txt")" "the stamp was rewritten in place"
assert_eq "$(jq -r '.differences[0].recorded' <<<"$OUT")" "$stamp_before" "recorded digest"
assert_eq "$(jq -r .first_divergent_job <<<"$OUT")" "$(show_json @2 | jq -r .job_id)" "the export job diverged"

check "--allow-outside-writes without --run is refused"
set +e
err=$("$ROAR" reproduce --allow-outside-writes out/final.txt 2>&1 >/dev/null)
rc=$?
set -e
assert_eq "$rc" 2 "exit status"
assert_contains "$err" "--allow-outside-writes is for --run" "says so"
