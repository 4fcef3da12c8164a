#!/usr/bin/env bash
# Two checkouts standing in for two machines (ROAR_HOST alpha and beta)
# write into one shared store at the same time, 16 jobs each: none is
# lost, each records its host, `roar log` shows hosts once there are
# several (log and dag), and a file written on one and read (the same bytes) on the
# other links the two jobs by content.
. "$(dirname "$0")/../lib/common.sh"
start_postgres
mkdir -p "$TEST_TMP/alpha" "$TEST_TMP/beta"
for h in alpha beta; do
  (cd "$TEST_TMP/$h" && "$ROAR" init --store "$PG_URL" --join shared >/dev/null)
done

check "before a second host writes, roar log shows no host"
cd "$TEST_TMP/alpha"
echo seed >seed.txt
ROAR_HOST=alpha "$ROAR" run -q cp seed.txt made-on-alpha.txt
assert_not_contains "$("$ROAR" log)" "[alpha]" "log of one host"
assert_eq "$("$ROAR" log --json | jq -r '.[0].host')" alpha "host in roar log --json"

check "16 concurrent jobs from each of two hosts are all recorded"
writer() { # host
  cd "$TEST_TMP/$1"
  local i
  for i in $(seq 1 16); do
    echo "$1 $i" >"in-$i.txt"
    ROAR_HOST=$1 "$ROAR" run -q sh -c "cat in-$i.txt > out-$i.txt" || return 1
  done
}
writer alpha &
a=$!
writer beta &
b=$!
wait $a || fail "a job on alpha failed"
wait $b || fail "a job on beta failed"
cd "$TEST_TMP/beta"
log=$("$ROAR" log --json)
assert_eq "$(jq length <<<"$log")" 33 "jobs in the shared project"
assert_eq "$(jq '[.[] | select(.host == "alpha")] | length' <<<"$log")" 17 "jobs from alpha"
assert_eq "$(jq '[.[] | select(.host == "beta")] | length' <<<"$log")" 16 "jobs from beta"
assert_eq "$(jq '[.[].job_id] | unique | length' <<<"$log")" 33 "distinct job ids"
ls "$TEST_TMP"/*/.roar/recovery/*.json 2>/dev/null && fail "a job went to a recovery file"

check "every concurrent job recorded its output"
for h in alpha beta; do
  for i in 1 8 16; do
    json=$(cd "$TEST_TMP/$h" && "$ROAR" show --json "$TEST_TMP/$h/out-$i.txt")
    assert_eq "$(jq -r '.hashes.blake3' <<<"$json")" "$(b3 "$TEST_TMP/$h/out-$i.txt")" "digest of $h out-$i"
  done
done

check "roar log shows each job's host once the project spans hosts"
text=$("$ROAR" log)
assert_contains "$text" "[alpha]" "log text"
assert_contains "$text" "[beta]" "log text"

check "roar dag shows each step's host once the project spans hosts"
dag=$("$ROAR" dag)
assert_contains "$dag" "[alpha]" "dag text"
assert_contains "$dag" "[beta]" "dag text"
assert_contains "$("$ROAR" dag --json | jq -c '[.nodes[].host] | unique')" '"beta"' "host in dag --json"

check "the same bytes read on beta link to the job on alpha that wrote them"
cp "$TEST_TMP/alpha/made-on-alpha.txt" copied.txt
ROAR_HOST=beta "$ROAR" run -q sh -c 'cat copied.txt > result.txt'
lineage=$("$ROAR" show --json --lineage result.txt)
producer=$("$ROAR" log --json | jq -r '.[0].job_id')
assert_contains "$(jq -c '[.lineage.jobs[].job_id]' <<<"$lineage")" "$producer" "upstream of result.txt"
