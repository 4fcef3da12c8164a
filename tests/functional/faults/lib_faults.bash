# Helpers for the fault suite; source after ../lib/common.sh.
# Gives: a seeded $RANDOM (ROAR_FAULT_SEED reproduces a run), db_ok,
# snapshot_history / assert_history_kept (nothing recorded earlier lost or
# changed), `marked CMD` with marked_pids / kill_marked / wait_no_marked
# (every process of a job started that way carries a mark), rand_ms,
# ms_sleep, now_ms, wait_file.

FAULT_SEED=${ROAR_FAULT_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$FAULT_SEED
echo "fault seed: $FAULT_SEED (ROAR_FAULT_SEED=$FAULT_SEED reproduces this run)" >&2

# `marked CMD...` runs CMD with this mark in its environment: every process
# of a job started that way (and its roar-proxy) inherits it, so they can
# be found, and must be gone, after roar run is killed.
FAULT_MARK="roar-fault-$$-$FAULT_SEED"
# In the background, write `FAULT_MARK=$FAULT_MARK CMD... &` instead: a
# function run with & is a subshell of its own, so $! would be that
# subshell and a kill -9 of $! would miss CMD.
marked() { FAULT_MARK=$FAULT_MARK "$@"; }
on_exit kill_marked

# marked_pids: pids of live processes carrying this test's FAULT_MARK
# (a zombie has no environment left, so only running ones are listed).
marked_pids() {
  grep -lsxz -F "FAULT_MARK=$FAULT_MARK" /proc/[0-9]*/environ 2>/dev/null | sed 's|^/proc/||; s|/environ$||' || true
}

# kill_marked: SIGKILLs every marked process (a cleanup, not a check).
kill_marked() {
  local pids
  pids=$(marked_pids)
  [[ -z "$pids" ]] || kill -9 $pids 2>/dev/null || true
}

# wait_no_marked SECONDS: succeeds once no marked process is left.
wait_no_marked() {
  local deadline=$((SECONDS + $1))
  while [[ -n "$(marked_pids)" ]]; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# db_ok WHAT: .roar/roar.db passes SQLite's integrity and foreign-key checks.
db_ok() {
  local out
  out=$(python3 - .roar/roar.db <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("PRAGMA integrity_check").fetchone()[0])
bad = db.execute("PRAGMA foreign_key_check").fetchall()
if bad:
    print("foreign keys:", bad[:5])
PY
  ) || fail "$1: cannot open the database"
  assert_eq "$out" ok "$1: database integrity"
}

# snapshot_history FILE: every job's `roar log --json` entry and `roar show
# --json` record, one JSON document per line.
snapshot_history() {
  local id
  "$ROAR" log --json | jq -c '.[]' >"$1.log"
  : >"$1"
  for id in $(jq -r '.job_id' "$1.log"); do
    "$ROAR" show --json "$id" | jq -cS . >>"$1"
  done
}

# assert_history_kept FILE WHAT: every job in snapshot FILE is still listed
# by `roar log --json` and shown by `roar show --json` exactly as before.
assert_history_kept() {
  local id want got entry
  local log
  log=$("$ROAR" log --json) || fail "$2: roar log fails"
  while IFS= read -r entry; do
    id=$(jq -r '.job_id' <<<"$entry")
    got=$(jq -c --arg id "$id" '.[] | select(.job_id == $id)' <<<"$log")
    assert_eq "$got" "$entry" "$2: roar log entry of job $id"
  done <"$1.log"
  while IFS= read -r want; do
    id=$(jq -r '.job_id' <<<"$want")
    got=$("$ROAR" show --json "$id" | jq -cS .) || fail "$2: roar show $id fails"
    [[ "$got" == "$want" ]] || fail "$2: roar show --json $id changed:
$(diff <(jq -S . <<<"$want") <(jq -S . <<<"$got") | head -20)"
  done <"$1"
}

# rand_ms MAX: a random whole number of milliseconds in [0, MAX].
rand_ms() { echo $(((RANDOM * 32768 + RANDOM) % ($1 + 1))); }

# ms_sleep MS: sleeps MS milliseconds.
ms_sleep() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

# wait_file FILE SECONDS: succeeds once FILE exists, fails after SECONDS.
wait_file() {
  local deadline=$((SECONDS + $2))
  until [[ -e "$1" ]]; do
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}

# now_ms: wall-clock milliseconds.
now_ms() { echo $(($(date +%s%N) / 1000000)); }
