# roar reproduce and outputs outside the repository: the plan lists them;
# --run refuses (exit 2, one line naming them, nothing touched) because the
# rebuild would write them in place over the user's files; with
# --allow-outside-writes it rebuilds them there and compares them like the
# others: the deterministic one matches, the time-stamped one is a
# difference entry with its path. Paths in the work tree inside an argument
# (--out=PATH, a sh -c string) are moved into the checkout, and a program
# that names the work tree itself is caught writing there (exit 2).
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

check "a work-tree path inside an argument (--out=, sh -c) is moved into the checkout; the original files are untouched"
cat >embed.py <<'PY'
import sys
a = dict(x.split("=", 1) for x in sys.argv[1:])
open(a["--out"], "w").write("embedded " + open(a["--in"]).read())
PY
printf 'import sys\nopen("%s/out/hard.txt", "w").write("hard-coded " + open(sys.argv[1]).read())\n' "$PROJECT" >hard.py
git_ add embed.py hard.py
git_ commit -q -m "embedded and hard-coded paths"
printf "read only by these jobs\n" >data/embed.csv # content no other job wrote
"$ROAR" run -q "$PY" embed.py --in="$PROJECT/data/embed.csv" --out="$PROJECT/out/embed.txt"
"$ROAR" run -q sh -c "cat $PROJECT/out/embed.txt > $PROJECT/out/embed2.txt"
touch -d 2000-01-01 out/embed.txt out/embed2.txt
before=$(stat -c %Y out/embed.txt out/embed2.txt)
reproduce_json out/embed2.txt
assert_eq "$RC" 0 "reproduced (stdout: $OUT stderr: $ERR)"
dir=$(jq -r .directory <<<"$OUT")
assert_eq "$(b3 "$dir/out/embed.txt")" "$(b3 out/embed.txt)" "--out= wrote in the checkout"
assert_eq "$(b3 "$dir/out/embed2.txt")" "$(b3 out/embed2.txt)" "the sh -c string wrote in the checkout"
assert_eq "$(stat -c %Y out/embed.txt out/embed2.txt)" "$before" "the original files were not rewritten"

check "a program naming the work tree itself is caught writing there after it ran: exit 2 naming the file, the rebuild stops"
"$ROAR" run -q "$PY" hard.py data/embed.csv
hard=$(last_job | jq -r .job_id)
hard_step=$(last_job | jq -r .step)
reproduce_json out/hard.txt
assert_eq "$RC" 2 "refused (stdout: $OUT)"
assert_contains "$ERR" "roar: the rebuild of @$hard_step (${hard:0:8}) wrote into the original work tree $PROJECT, not the checkout: $PROJECT/out/hard.txt" "names the job and the file"
assert_eq "$(jq -r '.original_tree_writes | join(" ")' <<<"$OUT")" "$PROJECT/out/hard.txt" "JSON lists the file"
assert_eq "$(jq -r .reproduced <<<"$OUT")" false "JSON: not reproduced"
