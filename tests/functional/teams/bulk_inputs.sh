#!/usr/bin/env bash
# A job with thousands of inputs goes into the shared store in multi-row
# inserts (several batches): every input is recorded with its digest, and
# files already known are linked to the artifact they are.
. "$(dirname "$0")/../lib/common.sh"
start_postgres
mkdir -p "$TEST_TMP/p/data" && cd "$TEST_TMP/p"
"$ROAR" init --store "$PG_URL" --join bulk >/dev/null
for i in $(seq 1 2500); do echo "file $i" >"data/f$i.txt"; done
echo same >data/dup-a.txt
echo same >data/dup-b.txt

check "2502 inputs of one job are all recorded"
"$ROAR" run -q sh -c 'cat data/*.txt > all.txt'
n=$(pg_sql -c "SELECT count(*) FROM roar_bulk.job_io WHERE direction = 'in'")
assert_eq "$n" 2502 "inputs stored"

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
