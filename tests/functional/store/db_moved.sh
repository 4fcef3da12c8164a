# The database deleted or replaced while a job runs: roar notices before
# storing (the open file is no longer the one at the path), says so in one
# line, and stores the job in the database now at the path (a new one when
# it is gone) instead of losing it in an unlinked file. The job's exit
# status is kept.
. "$(dirname "$0")/../lib/common.sh"
need sqlite3
new_project
"$ROAR" run -q sh -c 'echo one >one.txt'

check "a database deleted during the job is recreated, the job stored in it, and roar says so"
set +e
"$ROAR" run -q sh -c 'rm -f .roar/roar.db .roar/roar.db-wal .roar/roar.db-shm; echo two >two.txt; exit 4' 2>err.txt
rc=$?
set -e
assert_eq "$rc" 4 "the job's exit status"
assert_contains "$(cat err.txt)" "roar.db was deleted while the job ran" "the note"
assert_contains "$(cat err.txt)" "created a new database there" "the note"
assert_eq "$(grep -c 'roar:' err.txt)" 1 "one line"
log=$("$ROAR" log --json)
assert_eq "$(jq length <<<"$log")" 1 "jobs in the new database"
j=$(show_json "$(jq -r '.[0].job_id' <<<"$log")")
assert_eq "$(jq -r .exit_code <<<"$j")" 4 "recorded exit code"
assert_eq "$(io_paths "$j" outputs)" "$PROJECT/two.txt" "recorded output"

check "a database replaced during the job: the job goes into the replacement, and roar says so"
sqlite3 .roar/roar.db ".backup $TEST_TMP/backup.db"
"$ROAR" run -q sh -c 'echo three >three.txt' # only in the file that gets replaced
"$ROAR" run -q sh -c "cp '$TEST_TMP/backup.db' .roar/new.db && mv .roar/new.db .roar/roar.db; echo four >four.txt" \
  2>err.txt
assert_contains "$(cat err.txt)" "roar.db was replaced by another file while the job ran" "the note"
assert_contains "$(cat err.txt)" "stored this job in the database now there" "the note"
log=$("$ROAR" log --json)
assert_eq "$(jq length <<<"$log")" 2 "the backup's job and this one"
assert_eq "$(jq -r '.[1].command' <<<"$log")" "sh -c 'cp '\\''$TEST_TMP/backup.db'\\'' .roar/new.db && mv .roar/new.db .roar/roar.db; echo four >four.txt'" \
  "the job stored in the replacement"
assert_eq "$(sqlite3 .roar/roar.db 'PRAGMA integrity_check')" ok "integrity of the replacement"

check "an untouched database gets no note"
"$ROAR" run -q true 2>err.txt
assert_eq "$(cat err.txt)" "" "stderr of a quiet run"
echo ok
