# Shared set-up for functional tests; source it first:
#   . "$(dirname "$0")/../lib/common.sh"
# Gives: strict mode with a failure trap naming the line, $ROAR (the CLI
# under test), $TEST_TMP (removed at exit), skip (exit 77), check (names
# the behaviour under test), new_project, assertions, json helpers (jq),
# free_port, and on_exit for cleanups.
set -euo pipefail

# ctest leaves its own log (LastTest.log.tmp, written whenever another test
# ends) open in the tests it starts. A traced job inherits it as a
# write-capable fd to a file that changes while the job runs, which roar
# records as an output, as it should for a redirection; the tests' jobs
# must not be handed it. Every inherited fd above 2 that names a regular
# file is closed (255 is bash's own, the script being read).
for _fd in /proc/$$/fd/*; do
  _fd=${_fd##*/}
  if ((_fd > 2 && _fd != 255)) && [[ -f /proc/$$/fd/$_fd ]]; then
    eval "exec $_fd>&-"
  fi
done
unset _fd

ROAR_SOURCE_DIR=${ROAR_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
ROAR_BUILD_DIR=${ROAR_BUILD_DIR:-$ROAR_SOURCE_DIR/build}
ROAR=$ROAR_BUILD_DIR/bin/roar
export NO_COLOR=1
TEST_NAME=$(basename "$0" .sh)

# Only under errexit: a command failing inside `set +e` is expected.
trap 'rc=$?; [[ $- == *e* ]] && echo "FAIL: $TEST_NAME: ${CHECKING:+$CHECKING: }line $LINENO: $BASH_COMMAND (exit $rc)" >&2' ERR

_roar_cleanups=()
on_exit() { _roar_cleanups+=("$*"); }
_roar_run_cleanups() {
  local rc=$?
  local i
  for ((i = ${#_roar_cleanups[@]} - 1; i >= 0; i--)); do eval "${_roar_cleanups[$i]}" || true; done
  if [[ $rc -eq 0 || $rc -eq 77 || -z "${KEEP_TEST_TMP:-}" ]]; then rm -rf "$TEST_TMP"; fi
  exit $rc
}
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/roar-$TEST_NAME.XXXXXX")
trap _roar_run_cleanups EXIT

skip() { echo "SKIP: $TEST_NAME: $*" >&2; exit 77; }
# pending "DEFECT (OWNER)": the test checks a behaviour main does not have
# yet; it skips (label faults-pending, say) unless ROAR_RUN_PENDING=1.
pending() { [[ ${ROAR_RUN_PENDING:-} == 1 ]] || skip "pending: $*"; }
need() { local c; for c in "$@"; do command -v "$c" >/dev/null 2>&1 || skip "$c is not installed"; done; }
# check "what": names the behaviour the assertions after it prove, so a
# failure says which one broke.
CHECKING=
check() { CHECKING=$*; }
fail() { echo "FAIL: $TEST_NAME: ${CHECKING:+$CHECKING: }$*" >&2; exit 1; }

[[ -x "$ROAR" ]] || fail "roar not built at $ROAR"
need jq

# Creates and enters a fresh project directory ($PROJECT). Under
# ROAR_TEST_STORE=postgres (the CTest label postgres) its lineage goes to a
# new project in this test's throwaway PostgreSQL server instead.
new_project() {
  PROJECT=$TEST_TMP/${1:-project}
  mkdir -p "$PROJECT"
  cd "$PROJECT"
  if [[ ${ROAR_TEST_STORE:-sqlite} == postgres ]]; then
    [[ -n ${PG_URL:-} ]] || start_postgres
    _roar_pg_projects=$((${_roar_pg_projects:-0} + 1))
    "$ROAR" init --store "$PG_URL" --join "p$_roar_pg_projects" >/dev/null
  else
    "$ROAR" init >/dev/null
  fi
}

# start_postgres: a throwaway PostgreSQL 15 for this test (initdb into a
# temporary directory, as the postgres account when running as root, on a
# free loopback port; stopped at exit). Sets PG_URL (database roar, user
# roar, no password), PG_PORT, PG_DATA; pg_sql runs psql on it.
PG_BIN=/usr/lib/postgresql/15/bin
start_postgres() {
  [[ -x $PG_BIN/initdb ]] || skip "PostgreSQL 15 is not installed (postgresql-15)"
  need psql
  PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/roar-pg.XXXXXX")
  on_exit "rm -rf '$PG_DIR'"
  PG_AS=()
  if [[ $(id -u) == 0 ]]; then
    chown postgres "$PG_DIR"
    PG_AS=(runuser -u postgres --)
  fi
  PG_PORT=$(free_port)
  PG_DATA=$PG_DIR/data
  "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DATA" -U roar --auth=trust -E UTF8 --locale=C.UTF-8 \
    >"$TEST_TMP/initdb.log" 2>&1 || fail "initdb failed: $(tail -3 "$TEST_TMP/initdb.log")"
  on_exit "${PG_AS[*]} $PG_BIN/pg_ctl -D '$PG_DATA' -m immediate stop >/dev/null 2>&1"
  pg_server start || fail "PostgreSQL did not start: $(tail -3 "$PG_DIR/postgres.log")"
  "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U roar roar
  PG_URL=postgresql://roar@127.0.0.1:$PG_PORT/roar
  export PG_PORT PG_URL
}
# pg_server start|stop: starts or stops (at once, like a crash) the server.
pg_server() {
  if [[ $1 == start ]]; then
    (cd / && "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/postgres.log" -w \
      -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1" start >/dev/null)
  else
    (cd / && "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null)
  fi
}
# pg_stopped_midway SCRIPT: `roar run sh -c SCRIPT` in the current project
# with the PostgreSQL server stopped while the job runs (the job waits for
# a file named go, made after the stop, before SCRIPT). Sets RC to roar's
# exit status; its stderr is in $TEST_TMP/run.err.
pg_stopped_midway() {
  set +e
  "$ROAR" run sh -c "while [ ! -e go ]; do sleep 0.05; done; $1" 2>"$TEST_TMP/run.err" &
  local job=$!
  set -e
  sleep 1
  pg_server stop
  touch go
  set +e
  wait $job
  RC=$?
  set -e
}
pg_sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U roar -d roar "$@"; }

assert_eq() { # actual expected what
  [[ "$1" == "$2" ]] || fail "${3:-value}: expected '$2', got '$1'"
}
assert_ne() {
  [[ "$1" != "$2" ]] || fail "${3:-value}: expected something other than '$2'"
}
assert_contains() { # haystack needle what
  [[ "$1" == *"$2"* ]] || fail "${3:-text}: expected to contain '$2', got: $1"
}
assert_not_contains() {
  [[ "$1" != *"$2"* ]] || fail "${3:-text}: expected not to contain '$2', got: $1"
}
# Runs a command that must fail; stores its stderr in $ERR_OUT and exit in $ERR_RC.
expect_failure() {
  set +e
  ERR_OUT=$("$@" 2>&1 >/dev/null)
  ERR_RC=$?
  set -e
  [[ $ERR_RC -ne 0 ]] || fail "expected failure from: $*"
}

b3() { b3sum --no-names "$1"; }

# show_json REF: `roar show --json REF`; last_job: the newest job's record.
# undo_schema_9 DB: takes a SQLite store back to schema 8's hash_cache (no
# ctime_ns) and artifact_hashes (keyed by algorithm first, a digest index
# beside), for tests that need an older file; the caller sets PRAGMA
# user_version.
undo_schema_9() {
  sqlite3 "$1" "ALTER TABLE hash_cache DROP COLUMN ctime_ns;
    CREATE TABLE artifact_hashes_v8 (artifact_id INTEGER NOT NULL REFERENCES artifacts(id),
    algorithm TEXT NOT NULL, digest TEXT NOT NULL, PRIMARY KEY (algorithm, digest));
    INSERT INTO artifact_hashes_v8 SELECT artifact_id, algorithm, digest FROM artifact_hashes;
    DROP TABLE artifact_hashes; ALTER TABLE artifact_hashes_v8 RENAME TO artifact_hashes;
    CREATE INDEX artifact_hashes_by_artifact ON artifact_hashes(artifact_id);
    CREATE INDEX artifact_hashes_by_digest ON artifact_hashes(digest)"
}
show_json() { "$ROAR" show --json "$1"; }
last_job() { "$ROAR" show --json "$("$ROAR" log --json | jq -r '.[-1].job_id')"; }

# The real Python interpreter (python3 on PATH may be a pyenv shim script,
# which costs dozens of processes per start).
PYTHON=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || echo python3)

# io_digest JSON DIRECTION PATH: the blake3 recorded for PATH ("" if absent).
io_digest() {
  jq -r --arg p "$3" ".$2[] | select(.path == \$p) | .hashes.blake3 // empty" <<<"$1"
}
# io_paths JSON DIRECTION: the recorded paths, one per line, sorted.
io_paths() { jq -r ".$2[].path" <<<"$1" | sort; }

# Asserts every input and output of job JSON has the blake3 b3sum gives
# for the file now (for outputs) — inputs are checked where unchanged.
assert_outputs_match_b3sum() {
  local json=$1 path want got
  while IFS= read -r path; do
    [[ -f "$path" ]] || fail "output $path does not exist"
    want=$(b3 "$path")
    got=$(io_digest "$json" outputs "$path")
    assert_eq "$got" "$want" "blake3 of output $path"
  done < <(jq -r '.outputs[] | select(.kind == "file") | .path' <<<"$json")
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits up to $2 seconds (default 10) for a TCP port on 127.0.0.1.
wait_port() {
  local port=$1 deadline=$((SECONDS + ${2:-10}))
  while ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}
