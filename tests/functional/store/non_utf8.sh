# A byte that is not UTF-8 anywhere in a job (a file name it writes, an
# environment value, an argument, the cwd) never loses the job (issue 10
# item 1): the job is stored with its own exit status, the exact bytes are
# kept, text views show them escaped (a\xff), every --json output is valid
# JSON with the exact bytes in "<name>_b64", a path round-trips through
# `roar show`, and a recovery file and `roar import` keep them too. Runs
# on both engines (store-postgres/non_utf8: a UTF8 PostgreSQL database, the
# recovery file made by stopping the server and stored by roar store sync).
. "$(dirname "$0")/../lib/common.sh"
need python3 base64
new_project
ff=$'\xff'
b64() { printf '%s' "$1" | base64 -w0; }
valid_json() { python3 -m json.tool >/dev/null || fail "not valid JSON: $1"; }
no_raw_byte() { # TEXT WHAT: TEXT holds no byte that is not UTF-8
  python3 -c 'import sys; sys.stdin.buffer.read().decode("utf-8")' <<<"$1" 2>/dev/null \
    || fail "$2 prints bytes that are not UTF-8"
}
# run_rc CMD...: runs roar, stores its exit status in $RC and stderr in $ERR_TEXT.
run_rc() {
  set +e
  "$@" 2>"$TEST_TMP/err.txt"
  RC=$?
  set -e
  ERR_TEXT=$(cat "$TEST_TMP/err.txt")
}

check "a job writing a file whose name is not UTF-8 is stored with its exit status"
run_rc "$ROAR" run -q sh -c 'echo x > "$(printf "a\377")"; exit 3'
assert_eq "$RC" 3 "roar's exit status is the job's"
assert_not_contains "$ERR_TEXT" "internal error" "stderr"
j=$(last_job)
assert_eq "$(jq -r '.outputs[0].path' <<<"$j")" "$PROJECT/a\\xff" "the output's escaped path"
assert_eq "$(jq -r '.outputs[0].path_b64' <<<"$j")" "$(b64 "$PROJECT/a$ff")" "the output's exact bytes"
assert_eq "$(jq -r '.exit_code' <<<"$j")" 3 "the recorded exit code"
file_job=$(jq -r .job_id <<<"$j")

check "an environment value that is not UTF-8 is stored exactly"
run_rc env FOO="v$ff" "$ROAR" run -q true
assert_eq "$RC" 0 "exit status"
j=$(last_job)
assert_eq "$(jq -r '.env.FOO' <<<"$j")" 'v\xff' "escaped value"
assert_eq "$(jq -r '.env_b64.FOO' <<<"$j")" "$(b64 "v$ff")" "exact value"
assert_eq "$(jq -r '.env_b64 | length' <<<"$j")" 1 "only the value that needs it has a _b64"
assert_eq "$(jq -r '.env | has("FOO_b64")' <<<"$j")" false "no companion inside env itself"

check "an argument that is not UTF-8 is stored exactly"
run_rc "$ROAR" run -q true "$ff"
assert_eq "$RC" 0 "exit status"
j=$(last_job)
assert_eq "$(jq -r '.argv[1]' <<<"$j")" '\xff' "escaped argument"
assert_eq "$(jq -c '.argv_b64' <<<"$j")" "[null,\"$(b64 "$ff")\"]" "exact argument, null for the UTF-8 one"
arg_job=$(jq -r .job_id <<<"$j")

check "a cwd that is not UTF-8 is stored exactly"
mkdir "d$ff"
cd "d$ff"
run_rc "$ROAR" run -q sh -c 'echo y > out.txt'
cd "$PROJECT"
assert_eq "$RC" 0 "exit status"
j=$(last_job)
assert_eq "$(jq -r '.cwd' <<<"$j")" "$PROJECT/d\\xff" "escaped cwd"
assert_eq "$(jq -r '.cwd_b64' <<<"$j")" "$(b64 "$PROJECT/d$ff")" "exact cwd"
assert_eq "$(jq -r '.outputs[0].path_b64' <<<"$j")" "$(b64 "$PROJECT/d$ff/out.txt")" "exact output below it"

check "roar run @N re-runs the exact argument bytes"
step=$("$ROAR" show --json "$arg_job" | jq -r .step)
run_rc "$ROAR" run -q "@$step"
assert_eq "$RC" 0 "exit status of the re-run"
assert_eq "$(last_job | jq -r '.argv_b64[1]')" "$(b64 "$ff")" "the re-run's argument"

check "every --json output is valid JSON"
for job in $("$ROAR" log --json | jq -r '.[].job_id'); do
  "$ROAR" show --json "$job" | valid_json "show --json $job"
done
"$ROAR" log --json | valid_json "log --json"
"$ROAR" dag --json | valid_json "dag --json"
"$ROAR" dag --json --expanded | valid_json "dag --json --expanded"
"$ROAR" status --json | valid_json "status --json"
"$ROAR" show --json "$PROJECT/a$ff" | valid_json "show --json of the artifact"
"$ROAR" show --json --lineage "$PROJECT/d$ff/out.txt" | valid_json "show --json --lineage"

check "dag and status --json carry the exact bytes in _b64 members"
dag=$("$ROAR" dag --json --expanded)
assert_contains "$(jq -r '.. | objects | .cwd_b64? // empty' <<<"$dag")" "$(b64 "$PROJECT/d$ff")" "dag cwd_b64"
rm "a$ff"
status=$("$ROAR" status --json)
missing=$(jq -c --arg p "$PROJECT/a\\xff" '.files[] | select(.path == $p)' <<<"$status")
assert_eq "$(jq -r .state <<<"$missing")" missing "status state of the removed file"
assert_eq "$(jq -r .path_b64 <<<"$missing")" "$(b64 "$PROJECT/a$ff")" "status path_b64"

check "text views show the bytes escaped and print none raw"
text=$("$ROAR" show "$file_job")
assert_contains "$text" 'a\xff' "show of the job"
no_raw_byte "$text" "show of the job"
text=$("$ROAR" show "$arg_job")
assert_contains "$text" 'true \xff' "show's command line"
no_raw_byte "$text" "show of the argument job"
text=$("$ROAR" log)
assert_contains "$text" 'true \xff' "log"
no_raw_byte "$text" "log"
text=$("$ROAR" status)
assert_contains "$text" 'a\xff' "status lists the missing file"
no_raw_byte "$text" "status"
text=$("$ROAR" dag --expanded)
no_raw_byte "$text" "dag"
for format in mermaid dot; do
  no_raw_byte "$("$ROAR" dag --format "$format" --show-artifacts)" "dag --format $format"
done

check "a path that is not UTF-8 round-trips through roar show"
a=$("$ROAR" show --json "$PROJECT/d$ff/out.txt")
assert_eq "$(jq -r '.paths_b64[0]' <<<"$a")" "$(b64 "$PROJECT/d$ff/out.txt")" "the artifact's exact path"
back=$(jq -r '.paths_b64[0]' <<<"$a" | base64 -d)
assert_eq "$("$ROAR" show --json "$back" | jq -r .artifact_id)" "$(jq -r .artifact_id <<<"$a")" "show of the decoded path"
assert_eq "$("$ROAR" show --json "d$ff/out.txt" | jq -r .artifact_id)" "$(jq -r .artifact_id <<<"$a")" "relative path"
assert_eq "$("$ROAR" show --json 'd\xff/out.txt' | jq -r .artifact_id)" "$(jq -r .artifact_id <<<"$a")" \
  "the escaped path copied from a text view"
text=$("$ROAR" show "d$ff/out.txt")
assert_contains "$text" 'd\xff/out.txt' "the artifact's text view"
no_raw_byte "$text" "show of the artifact"

check "file names with a tab, a newline and a backslash are stored exactly"
# PostgreSQL takes a job's rows as a COPY stream, where these bytes are
# escapes: each must come back as itself.
run_rc "$ROAR" run -q sh -c 'printf 1 > "$(printf "t\tb")"; printf 2 > "$(printf "n\nl")"; printf 3 > "b\\s"'
assert_eq "$RC" 0 "the job's exit status"
outs=$(last_job | jq -r '.outputs[] | (.path_b64 // (.path | @base64))')
for name in $'t\tb' $'n\nl' 'b\s'; do
  want=$(b64 "$PROJECT/$name")
  grep -qx -- "$want" <<<"$outs" || fail "the output $(printf %q "$name") is not stored exactly (have: $outs)"
done

check "the session's scan behind roar dag reads those names back exactly"
# On PostgreSQL the scan is a COPY ... TO STDOUT stream, with the same escapes.
paths=$("$ROAR" dag --json --show-artifacts | jq -r '.artifacts[] | (.path_b64 // (.path | @base64))')
for name in $'t\tb' $'n\nl' 'b\s' "a$ff"; do
  grep -qx -- "$(b64 "$PROJECT/$name")" <<<"$paths" || fail "dag's artifact $(printf %q "$name") is not read back exactly"
done

# Variables whose names end in _b64 are the job's own: a recovery file keeps them as they are.
export KEEP=plain KEEP_b64=aGVsbG8=
if [[ ${ROAR_TEST_STORE:-sqlite} == postgres ]]; then
  check "a job whose server went away is saved with its exact bytes and stored by roar store sync"
  pg_stopped_midway 'echo z > "$(printf "r\377")"'
  assert_eq "$RC" 0 "exit status of the job that was not stored"
  shopt -s nullglob
  saved=(.roar/recovery/*.json)
  assert_eq "${#saved[@]}" 1 "recovery files"
  valid_json "recovery file" <"${saved[0]}"
  assert_eq "$(jq -r '.job.outputs[] | .path_b64 // empty' "${saved[0]}")" "$(b64 "$PROJECT/r$ff")" \
    "the saved output's exact bytes"
  uid=$(jq -r '.job.uid' "${saved[0]}")
  pg_server start
  run_rc "$ROAR" store sync
  assert_eq "$RC" 0 "roar store sync: $ERR_TEXT"
  j=$("$ROAR" show --json "$uid")
  assert_eq "$(jq -r '.outputs[] | .path_b64 // empty' <<<"$j")" "$(b64 "$PROJECT/r$ff")" "the stored output's exact bytes"
  assert_eq "$("$ROAR" show --json "r$ff" | jq -r '.produced_by[0].job_id')" "$(jq -r .job_id <<<"$j")" \
    "the stored path is found by roar show"
else
  check "a job that cannot be stored is saved with its exact bytes and imported by roar import"
  # The job moves the database away and leaves a file that is not one, so
  # storing fails and the record goes to a recovery file.
  run_rc "$ROAR" run sh -c 'echo z > "$(printf "r\377")"; mv .roar/roar.db "$0"; echo garbage > .roar/roar.db' \
    "$TEST_TMP/kept.db"
  assert_eq "$RC" 0 "exit status of the job that was not stored"
  saved=$(sed -n "s/.*its record is saved in \([^ ]*\) .*/\1/p" <<<"$ERR_TEXT")
  [[ -n $saved && -f $saved ]] || fail "no saved record named in: $ERR_TEXT"
  valid_json "recovery file" <"$saved"
  assert_eq "$(jq -r '.job.outputs[] | .path_b64 // empty' "$saved")" "$(b64 "$PROJECT/r$ff")" \
    "the saved output's exact bytes"
  uid=$(basename "$saved" .json)
  mv "$TEST_TMP/kept.db" .roar/roar.db
  rm -f .roar/roar.db-wal .roar/roar.db-shm
  run_rc "$ROAR" import "$saved"
  assert_eq "$RC" 0 "roar import: $ERR_TEXT"
  j=$("$ROAR" show --json "$uid")
  assert_eq "$(jq -r '.outputs[] | .path_b64 // empty' <<<"$j")" "$(b64 "$PROJECT/r$ff")" "the imported output's exact bytes"
  assert_eq "$("$ROAR" show --json "r$ff" | jq -r '.produced_by[0].job_id')" "$(jq -r .job_id <<<"$j")" \
    "the imported path is found by roar show"
fi
unset KEEP KEEP_b64
assert_eq "$(jq -c '.env | {KEEP, KEEP_b64}' <<<"$j")" '{"KEEP":"plain","KEEP_b64":"aGVsbG8="}' \
  "variables named NAME and NAME_b64 kept as they were"

check "roar diff of jobs whose arguments and environment are not UTF-8: valid JSON with _b64, text escaped"
env MYVAR="one$ff" "$ROAR" run -q -n diffed sh -c 'echo "$0" > d.txt' "a$ff"
env MYVAR="two$ff" "$ROAR" run -q -n diffed sh -c 'echo "$0" > d.txt' "b$ff"$'\e[2J'
run_rc "$ROAR" diff --json @diffed
assert_eq "$RC" 0 "diff --json: $ERR_TEXT"
d=$("$ROAR" diff --json @diffed)
valid_json "diff --json" <<<"$d"
assert_eq "$(jq -r '.argv.a_b64[3]' <<<"$d")" "$(b64 "a$ff")" "the first job's argument, exact"
run_rc "$ROAR" diff @diffed
assert_eq "$RC" 0 "diff: $ERR_TEXT"
text=$("$ROAR" diff @diffed)
assert_contains "$text" 'a\xff' "the argument, escaped"
assert_contains "$text" 'MYVAR: "one\xff" → "two\xff"' "the changed variable, escaped once"
no_raw_byte "$text" "diff"
[[ $text != *$'\e'* ]] || fail "diff prints a raw escape character"

check "roar-events writes valid JSON lines with the exact argument bytes"
events=$("$ROAR_BUILD_DIR/bin/roar-events" true "$ff" 2>/dev/null)
python3 -c 'import json, sys; [json.loads(line) for line in sys.stdin]' <<<"$events" || fail "roar-events: not JSON lines"
assert_eq "$(jq -c 'select(.op == "proc_start") | .argv_b64' <<<"$events" | head -1)" "[null,\"$(b64 "$ff")\"]" \
  "the proc_start event's argv_b64"
