# A generated history (bench/gen_lineage_db.py): 2,000 jobs, 210 steps and
# 100,000 job_io rows written in schema 7's shape. roar upgrades it on first
# open, and dag, status, show (job, path, digest) and log answer right on it.
# How fast they answer is measured in bench/ (row 7, at 10,000 jobs and
# 1,000,000 rows), not asserted here: a wall-clock limit in a test fails on
# a slower machine (or under a sanitizer) without anything being wrong.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_lineage.bash"
need sqlite3
new_project
"$PY" "$ROAR_SOURCE_DIR/bench/gen_lineage_db.py" --db .roar/roar.db --jobs 2000 --artifacts 100000 >gen.json
assert_eq "$(jq .jobs gen.json)" 2000 "generated jobs"
db() { sqlite3 .roar/roar.db "$1"; }

check "a schema 7 history is upgraded on first open, every row kept"
"$ROAR" log -n 1 >/dev/null || fail "roar log on the generated history"
assert_eq "$(db 'PRAGMA user_version')" 10 "schema version after the upgrade"
assert_eq "$(db 'SELECT count(*) FROM job_io')" "$(jq .job_io gen.json)" "job_io rows"
assert_eq "$(db 'SELECT count(*) FROM artifact_hashes')" "$(jq .artifacts gen.json)" "artifact digests"
assert_eq "$(db 'PRAGMA integrity_check')" ok "integrity after the upgrade"

check "dag --json counts every step, and half the last round is stale"
d=$("$ROAR" dag --json)
assert_eq "$(jq .total_steps <<<"$d")" "$(db 'SELECT count(*) FROM steps')" "steps"
[[ $(jq .stale_count <<<"$d") -gt 0 ]] || fail "expected stale steps in the generated history"

check "dag's text names the steps and the stale count"
"$ROAR" dag >dag.txt
grep -q "^Pipeline: $(jq .total_steps <<<"$d") steps ($(jq .stale_count <<<"$d") stale)" dag.txt ||
  fail "dag's first line: $(head -1 dag.txt)"

check "status agrees with dag on the stale steps"
assert_eq "$("$ROAR" status --json | jq '.stale_steps | length')" "$(jq .stale_count <<<"$d")" "stale steps"

check "show of a job lists its inputs and outputs"
job=$(db "SELECT uid FROM jobs WHERE id = 1000")
s=$("$ROAR" show --json "$job")
assert_eq "$(jq -r .job_id <<<"$s")" "$job" "job id"
assert_eq "$(jq '.inputs | length' <<<"$s")" "$(db "SELECT count(*) FROM job_io WHERE job_id = 1000 AND direction = 'in'")" "inputs"
assert_eq "$(jq '.outputs | length' <<<"$s")" "$(db "SELECT count(*) FROM job_io WHERE job_id = 1000 AND direction = 'out'")" "outputs"

check "show of a path names the job that wrote it"
s=$("$ROAR" show --json /data/proj/stage00100/part-001.bin)
assert_eq "$(jq -r '.paths[0]' <<<"$s")" /data/proj/stage00100/part-001.bin "path"
[[ $(jq '.produced_by | length' <<<"$s") -gt 0 ]] || fail "no producer for a generated output"

check "show of a digest prefix finds that artifact"
digest=$(db "SELECT digest FROM artifact_hashes ORDER BY artifact_id LIMIT 1 OFFSET 5000")
assert_eq "$("$ROAR" show --json "${digest:0:12}" | jq -r .hashes.blake3)" "$digest" "digest"

check "log lists every job"
assert_eq "$("$ROAR" log --json | jq length)" 2000 "jobs in the log"
echo ok
