#!/usr/bin/env bash
# What roar prints does not depend on where rows lie on disk (issue 11):
# a small pipeline's log, show, dag and status (--json and text) from a
# shared PostgreSQL store are byte-identical before and after its tables
# are physically reordered (rows deleted and inserted again in reverse,
# CLUSTER on other indexes, VACUUM FULL), and the same job records stored
# in a SQLite project print the same, but for the store's name in status.
# The records are made once (the server stopped while each job runs, so
# each goes to a recovery file) and imported into both stores, so both
# hold the same uids, times and paths.
. "$(dirname "$0")/../lib/common.sh"
need psql
start_postgres
PROJECT=$TEST_TMP/project
mkdir -p "$PROJECT" "$TEST_TMP/records"
cd "$PROJECT"
"$ROAR" init --store "$PG_URL" --join order >/dev/null

# offline SCRIPT: `roar run sh -c SCRIPT` with the server stopped before the
# job ends, so its record is saved to .roar/recovery; then moved aside.
offline() {
  rm -f "$TEST_TMP/go"
  set +e
  "$ROAR" run -q sh -c "while [ ! -e '$TEST_TMP/go' ]; do sleep 0.05; done; $1" 2>>"$TEST_TMP/run.err" &
  local job=$!
  set -e
  sleep 1
  pg_server stop
  touch "$TEST_TMP/go"
  wait $job || fail "job '$1' failed"
  pg_server start
  local saved
  for saved in .roar/recovery/*.json; do
    mv "$saved" "$TEST_TMP/records/$(printf '%02d' "$(find "$TEST_TMP/records" -name '*.json' | wc -l)").json"
  done
}

check "a pipeline's records are saved while the server is down"
printf 'b\na\n' >raw1.txt
printf 'c\n' >raw2.txt
printf 'z\ny\nx\n' >raw3.txt
offline 'cat raw2.txt raw1.txt > merged.txt; cat raw3.txt > copy3.txt'
offline 'sort merged.txt > sorted.txt; wc -l copy3.txt > count.txt'
offline 'mkdir -p parts && split -l 1 sorted.txt parts/p_ && cat raw3.txt sorted.txt > zz-all.txt'
printf 'd\n' >raw2.txt
offline 'cat raw2.txt raw1.txt > merged.txt; cat raw3.txt > copy3.txt'
offline 'cat count.txt zz-all.txt raw1.txt merged.txt > report.txt'
offline 'sort -r merged.txt > sorted.txt'
printf 'w\n' >raw3.txt # modified on disk: status and dag show it
rm -f copy3.txt        # missing on disk
assert_eq "$(find "$TEST_TMP/records" -name '*.json' | wc -l)" 6 "records saved"

# import_records: stores every saved record, in the order they were made.
import_records() {
  local copies=$TEST_TMP/copies
  rm -rf "$copies" && cp -r "$TEST_TMP/records" "$copies"
  "$ROAR" import "$copies"/*.json >/dev/null
}
# capture DIR: what roar prints of the pipeline, one file per view.
capture() {
  mkdir -p "$1"
  "$ROAR" log --json >"$1/log.json"
  "$ROAR" log >"$1/log.txt"
  "$ROAR" show --json report.txt >"$1/show-report.json"
  "$ROAR" show --json parts/p_aa >"$1/show-part.json"
  "$ROAR" show --json "$(jq -r '.[-2].job_id' "$1/log.json")" >"$1/show-job.json"
  "$ROAR" show report.txt >"$1/show-report.txt"
  "$ROAR" dag --json >"$1/dag.json"
  "$ROAR" dag --expanded --show-artifacts >"$1/dag.txt"
  "$ROAR" dag --format dot >"$1/dag.dot"
  "$ROAR" status --json >"$1/status.json"
  "$ROAR" status >"$1/status.txt" || true # stale steps: status exits 1
}
# same DIR1 DIR2 WHAT: every view in DIR1 is byte-identical in DIR2.
same() {
  local f
  for f in "$1"/*; do
    cmp -s "$f" "$2/$(basename "$f")" ||
      fail "$3: $(basename "$f") differs: $(diff "$f" "$2/$(basename "$f")" | head -20)"
  done
}

check "the records are stored in PostgreSQL"
import_records
assert_eq "$("$ROAR" log --json | jq length)" 6 "jobs stored"
capture "$TEST_TMP/pg-before"

check "PostgreSQL prints the same after its rows moved on disk"
schema=$(pg_sql -c "SELECT table_schema FROM information_schema.tables WHERE table_name = 'job_io'")
[[ -n $schema && $(wc -l <<<"$schema") -eq 1 ]] || fail "one project schema holds job_io: '$schema'"
pg_sql <<SQL
SET search_path TO "$schema";
BEGIN;
-- Rows deleted and inserted again newest first: the heap's order reversed.
CREATE TEMP TABLE io_copy AS SELECT * FROM job_io;
DELETE FROM job_io;
INSERT INTO job_io SELECT * FROM io_copy ORDER BY job_id DESC, direction DESC, path_id DESC;
CREATE TEMP TABLE proc_copy AS SELECT * FROM processes;
DELETE FROM processes;
INSERT INTO processes SELECT * FROM proc_copy ORDER BY job_id DESC, seq DESC;
CREATE TEMP TABLE hash_copy AS SELECT * FROM artifact_hashes;
DELETE FROM artifact_hashes;
INSERT INTO artifact_hashes SELECT * FROM hash_copy ORDER BY artifact_id DESC, algorithm DESC;
-- Every row of the others updated in place: each tuple moves.
UPDATE jobs SET notes = notes;
UPDATE steps SET io_paths = io_paths;
UPDATE paths SET path = path;
UPDATE artifacts SET kind = kind;
COMMIT;
-- Jobs in uid order (random), hashes in digest order (random).
CLUSTER jobs USING jobs_uid_key;
CLUSTER artifact_hashes USING artifact_hashes_pkey;
VACUUM FULL;
ANALYZE;
SQL
order=$(pg_sql -c "SELECT string_agg(job_id::text, ',') FROM (SELECT job_id FROM \"$schema\".job_io) io")
assert_ne "$order" "$(tr ',' '\n' <<<"$order" | sort -n | paste -sd,)" "job_io's heap is no longer in job order"
capture "$TEST_TMP/pg-after"
same "$TEST_TMP/pg-before" "$TEST_TMP/pg-after" "after reordering PostgreSQL's tables"

check "the same records in SQLite print the same"
mv .roar "$TEST_TMP/pg-roar" && mv roar.toml "$TEST_TMP/pg-roar.toml"
"$ROAR" init >/dev/null
import_records
capture "$TEST_TMP/sqlite"
# The store's name is the one thing that differs.
for f in "$TEST_TMP"/pg-before/* "$TEST_TMP"/sqlite/*; do
  sed -i -e "s|$PG_URL[^\" ]*|STORE|g" -e "s|$PROJECT/.roar/roar.db|STORE|g" "$f"
done
same "$TEST_TMP/pg-before" "$TEST_TMP/sqlite" "SQLite against PostgreSQL"
