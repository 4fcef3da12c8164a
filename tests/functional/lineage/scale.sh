# Speed on a generated history (bench/gen_lineage_db.py): 2,000 jobs and
# 100,000 job_io rows; dag --json, dag, show (job, path, digest), status and
# log must each answer within a generous bound (the 10,000-job / 1,000,000-row
# timings are in docs/commands/dag.md).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_lineage.bash"
need sqlite3
new_project
"$PY" "$ROAR_SOURCE_DIR/bench/gen_lineage_db.py" --db .roar/roar.db --jobs 2000 --artifacts 100000 >gen.json
assert_eq "$(jq .jobs gen.json)" 2000 "generated jobs"
within() { # SECONDS CMD...: runs CMD, fails if it took longer
  local limit=$1 start end
  shift
  start=$(date +%s.%N)
  "$@" >/dev/null
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" -v l="$limit" 'BEGIN { exit !(e - s <= l) }' ||
    fail "$* took $(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }') s (limit $limit s)"
}
within 3 "$ROAR" dag --json
within 3 "$ROAR" dag
within 3 "$ROAR" status
job=$(sqlite3 .roar/roar.db "SELECT uid FROM jobs WHERE id = 1000")
within 1 "$ROAR" show --json "$job"
within 1 "$ROAR" show --json /data/proj/stage00100/part-001.bin
digest=$(sqlite3 .roar/roar.db "SELECT digest FROM artifact_hashes LIMIT 1 OFFSET 5000")
within 1 "$ROAR" show --json "${digest:0:12}"
within 2 "$ROAR" log --json
# The answers are right, not just quick: half the last round was re-run.
d=$("$ROAR" dag --json)
assert_eq "$(jq .total_steps <<<"$d")" "$(sqlite3 .roar/roar.db 'SELECT count(*) FROM steps')" "steps"
[[ $(jq .stale_count <<<"$d") -gt 0 ]] || fail "expected stale steps in the generated history"
echo ok
