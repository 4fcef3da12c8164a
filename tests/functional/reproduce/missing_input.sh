# roar reproduce --run refuses (exit 2, naming the input) when an external
# input no longer has its recorded content anywhere it was seen, and takes
# it from another recorded location when that one still has it; the plan
# (text and JSON) names the same problem before anything is run.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_reproduce.bash"
new_pipeline
cp data/raw.csv data/raw-copy.csv
run_pipeline
"$ROAR" run -q "$PY" -c 'import shutil; shutil.copy("data/raw.csv", "data/kept.csv")' # the content is seen at kept.csv too

check "an input whose content is elsewhere is copied in from there"
printf 'changed\n' >data/raw.csv
reproduce_json out/model.txt
assert_eq "$RC" 0 "reproduced from the other location (stderr: $ERR)"
dir=$(jq -r .directory <<<"$OUT")
assert_eq "$(b3 "$dir/data/raw.csv")" "$(b3 data/raw-copy.csv)" "the recorded content was put in place"
assert_eq "$("$ROAR" reproduce --json out/model.txt | jq -c .problems)" "[]" "the plan sees no problem either"

check "a missing external input is refused with exit 2, naming it"
rm data/kept.csv
before=$(find "$TEST_TMP" -maxdepth 1 -name 'roar-reproduce-*' | wc -l)
reproduce_json out/model.txt
assert_eq "$RC" 2 "refused"
assert_contains "$ERR" "roar: external input $PROJECT/data/raw.csv (blake3 $(b3 data/raw-copy.csv | cut -c1-12)) is not available" "names the input"
assert_eq "$(jq -r .reproduced <<<"$OUT")" false "json says not reproduced"
assert_contains "$(jq -r .refused <<<"$OUT")" "data/raw.csv" "json says why"
assert_eq "$(find "$TEST_TMP" -maxdepth 1 -name 'roar-reproduce-*' | wc -l)" "$before" "nothing was checked out"

check "the plan names the missing input as --run does: a cannot run: line and a JSON problem"
plan=$("$ROAR" reproduce out/model.txt)
assert_contains "$plan" "cannot run: external input $PROJECT/data/raw.csv (blake3 $(b3 data/raw-copy.csv | cut -c1-12)) is not available" "text"
problems=$("$ROAR" reproduce --json out/model.txt | jq -c .problems)
assert_eq "$(jq length <<<"$problems")" 1 "one JSON problem"
assert_eq "$(jq -r '.[0]' <<<"$problems")" "$(jq -r .refused <<<"$OUT")" "the same words --run refused with"
