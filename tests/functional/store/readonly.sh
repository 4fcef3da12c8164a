# Readers (log, show, dag, status) open the database read-only and never
# write it: as root they leave it byte for byte as it was (no hash-cache
# entries), and they work for a user without write permission and on a
# read-only mount, where writers refuse with a line saying they need write
# access. An older schema a reader cannot upgrade is one line saying what
# to do. Unprivileged runs use setpriv (uid 65534), the read-only mount
# `unshare -m`; the test skips only when neither is possible.
. "$(dirname "$0")/../lib/common.sh"
need sqlite3 sha256sum
chmod 755 "$TEST_TMP"
new_project
echo "raw data" >in.txt
"$ROAR" run -q sh -c 'tr a-z A-Z <in.txt >out.txt'
"$ROAR" run -q sh -c 'cat out.txt out.txt >twice.txt'
# Changed since the job, with an old mtime: status hashes it, and a writer
# would keep that digest in the hash cache.
echo "changed data" >in.txt
touch -d '2020-01-01' in.txt

readers() { # runs every reader, failing on the first that fails
  "$ROAR" log --json >/dev/null
  "$ROAR" show --json @1 >/dev/null
  "$ROAR" show out.txt >/dev/null
  "$ROAR" dag --json >/dev/null
  "$ROAR" status --json >/dev/null
}

check "readers leave the database byte for byte as it was"
cache_before=$(sqlite3 .roar/roar.db 'SELECT count(*) FROM hash_cache')
sum=$(sha256sum <.roar/roar.db)
readers
assert_eq "$(sha256sum <.roar/roar.db)" "$sum" "roar.db after the readers"
assert_eq "$(sqlite3 .roar/roar.db 'SELECT count(*) FROM hash_cache')" "$cache_before" "hash-cache entries"
assert_eq "$("$ROAR" status --json | jq -r '.files[] | select(.path | endswith("/in.txt")) | .state')" modified \
  "status still sees the change"
[[ ! -s .roar/roar.db-wal ]] || fail "a reader left WAL frames"

as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
tested=0
if [[ $(id -u) -eq 0 ]] && as_nobody true 2>/dev/null; then
  tested=1
  rm -f .roar/roar.db-wal .roar/roar.db-shm # no writer open: nothing but the main file

  check "a user without write permission reads log, show, dag and status"
  as_nobody "$ROAR" log --json >nobody-log.json 2>nobody.err || fail "log as nobody: $(cat nobody.err)"
  assert_eq "$(jq length nobody-log.json)" 2 "jobs listed to nobody"
  assert_eq "$(as_nobody "$ROAR" show --json @2 | jq -r .command)" "sh -c 'cat out.txt out.txt >twice.txt'" \
    "show as nobody"
  assert_eq "$(as_nobody "$ROAR" dag --json | jq .total_steps)" 2 "dag as nobody"
  assert_eq "$(as_nobody "$ROAR" status --json | jq .counts.modified)" 1 "status as nobody"

  check "a user without write permission reads while the WAL index exists too"
  "$ROAR" log >/dev/null # root's reader leaves the (empty) WAL files
  as_nobody "$ROAR" log --json >/dev/null 2>nobody.err || fail "log as nobody with -shm: $(cat nobody.err)"

  check "a writer without write permission refuses before running the job, saying it needs write access"
  set +e
  err=$(as_nobody "$ROAR" run sh -c 'echo ran >/tmp/roar-readonly-ran-$$' 2>&1 >/dev/null)
  rc=$?
  set -e
  assert_ne "$rc" 0 "exit of a writer without permission"
  assert_contains "$err" "read-only for this user" "writer's error"
  assert_contains "$err" "write access" "writer's error"
  assert_eq "$(wc -l <<<"$err")" 1 "one line"
  assert_not_contains "$err" "restore it from a backup" "writer's error"
  assert_eq "$(jq length <("$ROAR" log --json))" 2 "no job recorded"

  check "an older schema a reader cannot upgrade is one line saying what to do"
  cp .roar/roar.db current.db
  # Back to version 1: migration 8 -> 9 undone (digests keyed by algorithm first, with a digest index),
  # 6 -> 7 (uses carry their paths), then 7 -> 8 and the earlier ones.
  undo_schema_9 .roar/roar.db
  sqlite3 .roar/roar.db "CREATE TABLE job_io_v6 AS SELECT io.job_id, io.direction, p.path, io.artifact_id, io.size,
    io.notes, io.pid FROM job_io io JOIN paths p ON p.id = io.path_id;
    DROP TABLE job_io; DROP TABLE paths; ALTER TABLE job_io_v6 RENAME TO job_io;
    CREATE INDEX job_io_by_artifact ON job_io(artifact_id); CREATE INDEX job_io_by_path ON job_io(path)"
  sqlite3 .roar/roar.db 'DROP TABLE job_uses; ALTER TABLE job_io DROP COLUMN pid; DROP TABLE job_environments; DROP INDEX steps_by_name; ALTER TABLE steps DROP COLUMN name;
    DROP INDEX jobs_by_session; DROP INDEX artifact_hashes_by_digest;
    ALTER TABLE steps DROP COLUMN io_paths; ALTER TABLE processes DROP COLUMN tracer; PRAGMA user_version = 1'
  rm -f .roar/roar.db-wal .roar/roar.db-shm
  set +e
  err=$(as_nobody "$ROAR" log 2>&1 >/dev/null)
  rc=$?
  set -e
  assert_ne "$rc" 0 "exit for an older schema"
  assert_eq "$(wc -l <<<"$err")" 1 "one line"
  assert_contains "$err" "schema version 1" "names the version"
  assert_contains "$err" "as a user who can write" "says what to do"
  assert_eq "$(sqlite3 .roar/roar.db 'PRAGMA user_version')" 1 "left as it was"

  check "a reader who can write upgrades an older schema (the one write a reader makes)"
  assert_eq "$(jq length <("$ROAR" log --json))" 2 "jobs after the upgrade"
  assert_eq "$(sqlite3 .roar/roar.db 'PRAGMA user_version')" 10 "upgraded"
  assert_eq "$(sqlite3 .roar/roar.db "SELECT count(*) FROM sqlite_master WHERE name = 'artifact_hashes_by_digest'")" 0 \
    "digest index gone (the key leads with the digest)"
  assert_eq "$(sqlite3 .roar/roar.db 'SELECT count(*) FROM jobs j JOIN job_uses u ON u.job_id = j.id')" 2 \
    "jobs with use lists"
  assert_eq "$(sqlite3 .roar/roar.db 'SELECT count(*) FROM job_io io LEFT JOIN paths p ON p.id = io.path_id
    WHERE p.path IS NULL')" 0 "uses whose path was lost"
  cp current.db .roar/roar.db
  rm -f .roar/roar.db-wal .roar/roar.db-shm
fi

if [[ $(id -u) -eq 0 ]] && unshare -m --propagation private true 2>/dev/null; then
  tested=1
  check "on a read-only mount, readers work and a writer says it needs write access"
  rm -f .roar/roar.db-wal .roar/roar.db-shm
  set +e
  out=$(unshare -m --propagation private bash -c '
    set -e
    mount --bind "$1" "$1" && mount -o remount,bind,ro "$1"
    cd "$1"
    "$2" log --json | jq length
    "$2" dag --json | jq .total_steps
    "$2" status --json | jq .counts.modified
    "$2" show --json @1 | jq -r .job_id >/dev/null
    if "$2" run true 2>&1; then echo "run succeeded"; fi
  ' roar-ro "$PROJECT" "$ROAR" 2>&1)
  rc=$?
  set -e
  [[ $rc -eq 0 ]] || fail "read-only mount session failed: $out"
  assert_eq "$(head -3 <<<"$out" | tr '\n' ' ')" "2 2 1 " "readers on a read-only mount"
  assert_not_contains "$out" "run succeeded" "a writer on a read-only mount"
  assert_contains "$out" "read-only for this user" "writer's error on a read-only mount"
fi
((tested)) || skip "needs root for setpriv or a mount namespace"
echo ok
