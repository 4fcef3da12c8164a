#!/usr/bin/env bash
# A job with thousands of inputs goes into the shared store in batches
# (COPY streams): every input is recorded with its digest, and
# files already known are linked to the artifact they are; a job of many
# processes stores them all the same way.
. "$(dirname "$0")/../lib/common.sh"
start_postgres
mkdir -p "$TEST_TMP/p/data" && cd "$TEST_TMP/p"
"$ROAR" init --store "$PG_URL" --join bulk >/dev/null
for i in $(seq 1 2500); do echo "file $i" >"data/f$i.txt"; done
echo same >data/dup-a.txt
echo same >data/dup-b.txt

check "2502 inputs of one job are all recorded"
"$ROAR" run -q sh -c 'cat data/*.txt > all.txt'
n=$(pg_sql -c "SELECT count(*) FROM roar_bulk.job_io io JOIN roar_bulk.paths p ON p.id = io.path_id
  WHERE direction = 'in' AND path NOT LIKE '%/'")
assert_eq "$n" 2502 "input files stored"
# The shell listed data/ for the glob and cat read every file in it.
assert_eq "$(pg_sql -c "SELECT count(*) FROM roar_bulk.job_io io JOIN roar_bulk.paths p ON p.id = io.path_id
  WHERE direction = 'in' AND path LIKE '%/'")" 1 \
  "the directory read as a whole, stored as one dataset input"

check "two inputs with the same bytes are one artifact"
a=$("$ROAR" show --json data/dup-a.txt | jq -r '.paths | join(",")')
assert_contains "$a" "dup-b.txt" "paths of the shared artifact"

check "a second job reading the same files reuses their artifacts"
before=$(pg_sql -c "SELECT count(*) FROM roar_bulk.artifacts")
"$ROAR" run -q sh -c 'cat data/*.txt > again.txt'
after=$(pg_sql -c "SELECT count(*) FROM roar_bulk.artifacts")
assert_eq "$after" "$before" "artifacts after reading the same inputs (the output has the same bytes as all.txt)"
digest=$("$ROAR" show --json data/f1234.txt | jq -r '.hashes.blake3')
assert_eq "$digest" "$(b3 data/f1234.txt)" "digest of one input"

check "a job of 1,200 /bin/true processes stores every one (more than one multi-row statement)"
job=$("$ROAR" run -q --json sh -c 'for i in $(seq 1200); do /bin/true; done' | jq -r .job_id)
shown=$("$ROAR" show --json "$job")
n=$(jq '[.processes[] | select(.argv == ["/bin/true"])] | length' <<<"$shown")
assert_eq "$n" 1200 "processes running /bin/true in roar show --json"
# Each forked shell is recorded beside the image it became, and the loop's
# own shell and seq: more than 2,000 rows, every one read back.
total=$(jq '.processes | length' <<<"$shown")
stored=$(pg_sql -c "SELECT count(*) FROM roar_bulk.processes p JOIN roar_bulk.jobs j ON j.id = p.job_id WHERE j.uid = '$job'")
assert_eq "$total" "$stored" "processes shown against rows stored"
(( total > 2400 )) || fail "expected over 2,400 processes, got $total"
check "parent links survive the batches: every process but the first names an earlier one"
bad=$(jq '[.processes | to_entries[] | select(.key > 0 and ((.value.parent // -1) < 0 or .value.parent >= .key))] | length' <<<"$shown")
assert_eq "$bad" 0 "processes without an earlier parent"
