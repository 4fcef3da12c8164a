#!/usr/bin/env bash
# The shared store's server stopped while a job runs is handled like a full
# disk: the job's exit status is kept, its record goes to a local recovery
# file, and `roar store sync` (or the next run that reaches the server)
# stores it once the server is back.
. "$(dirname "$0")/../lib/common.sh"
new_project_pg() { mkdir -p "$TEST_TMP/p" && cd "$TEST_TMP/p" && "$ROAR" init --store "$PG_URL" --join down >/dev/null; }
start_postgres
new_project_pg
echo input >in.txt

check "a job whose server went away keeps its exit status and is saved locally"
pg_stopped_midway 'cat in.txt > out.txt; exit 3'
assert_eq "$RC" 3 "exit status of the job"
err=$(cat "$TEST_TMP/run.err")
assert_contains "$err" "roar store sync" "what roar said"
shopt -s nullglob
saved=(.roar/recovery/*.json)
assert_eq "${#saved[@]}" 1 "recovery files"
uid=$(jq -r '.job.uid' "${saved[0]}")

check "roar store sync fails while the server is still down, keeping the file"
expect_failure "$ROAR" store sync
saved=(.roar/recovery/*.json)
assert_eq "${#saved[@]}" 1 "recovery files after a failed sync"

check "roar store sync stores the saved job once the server is back"
pg_server start
out=$("$ROAR" store sync)
assert_contains "$out" "stored job" "sync output"
saved=(.roar/recovery/*.json)
assert_eq "${#saved[@]}" 0 "recovery files after sync"
log=$("$ROAR" log --json)
assert_eq "$(jq length <<<"$log")" 1 "jobs stored"
assert_eq "$(jq -r '.[0].exit_code' <<<"$log")" 3 "stored exit code"
assert_eq "$(jq -r '.[0].job_id' <<<"$log")" "$uid" "the saved job"
json=$("$ROAR" show --json out.txt)
assert_eq "$(jq -r '.hashes.blake3' <<<"$json")" "$(b3 out.txt)" "the saved job's output"

check "the next successful run uploads a saved record too"
set +e
"$ROAR" run -q sh -c 'while [ ! -e go2 ]; do sleep 0.05; done; echo second > out2.txt' &
job=$!
set -e
sleep 1
pg_server stop
touch go2
wait $job || fail "the job itself succeeded"
saved=(.roar/recovery/*.json)
assert_eq "${#saved[@]}" 1 "recovery files"
pg_server start
"$ROAR" run -q sh -c 'echo third > out3.txt' 2>"$TEST_TMP/next.err"
assert_contains "$(cat "$TEST_TMP/next.err")" "stored job" "the next run says it stored the saved job"
assert_eq "$("$ROAR" log --json | jq length)" 3 "jobs stored"
