#!/usr/bin/env bash
# `roar init --store URL [--join NAME]`: creating and joining a project in
# a shared PostgreSQL store, store.url/store.project in roar.toml,
# ROAR_STORE_URL, and passwords never written to roar.toml nor printed.
. "$(dirname "$0")/../lib/common.sh"
start_postgres

check "init --store --join creates the project and writes store.url and store.project"
mkdir -p "$TEST_TMP/a" && cd "$TEST_TMP/a"
out=$("$ROAR" init --store "$PG_URL" --join team)
assert_contains "$out" "created project 'team'"
assert_eq "$("$ROAR" config get store.url)" "'$PG_URL'" "store.url"
assert_eq "$("$ROAR" config get store.project)" "'team'" "store.project"
[[ ! -e .roar/roar.db ]] || fail "a shared project has no .roar/roar.db"
assert_eq "$(pg_sql -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'roar_team'")" 1 "schema roar_team"

check "a second checkout joins the same project"
mkdir -p "$TEST_TMP/b" && cd "$TEST_TMP/b"
out=$("$ROAR" init --store "$PG_URL" --join team)
assert_contains "$out" "joined project 'team'"

check "init without --join refuses a name the store already has"
mkdir -p "$TEST_TMP/team" && cd "$TEST_TMP/team"
expect_failure "$ROAR" init --store "$PG_URL"
assert_contains "$ERR_OUT" "already has a project 'team'"
assert_contains "$ERR_OUT" "--join team"

check "the hash cache stays on this machine: .roar/hash_cache.db, no table on the server"
cd "$TEST_TMP/a"
echo data >in.txt
"$ROAR" run -q cp in.txt out.txt
[[ -f .roar/hash_cache.db ]] || fail "no local hash cache"
assert_eq "$(pg_sql -c "SELECT count(*) FROM pg_tables WHERE tablename = 'hash_cache'")" 0 "hash_cache on the server"
assert_eq "$(pg_sql -c "SELECT count(*) FROM roar_team.jobs")" 1 "the job is on the server"

check "a password in --store goes to .roar/pgpass (0600), never to roar.toml or the output"
mkdir -p "$TEST_TMP/c" && cd "$TEST_TMP/c"
pw_url=postgresql://roar:s3cr3t-pw@127.0.0.1:$PG_PORT/roar
out=$("$ROAR" init --store "$pw_url" --join team 2>&1)
assert_not_contains "$out" "s3cr3t-pw" "init output"
assert_not_contains "$(cat roar.toml)" "s3cr3t-pw" "roar.toml"
assert_eq "$(stat -c %a .roar/pgpass)" 600 "mode of .roar/pgpass"
assert_contains "$(cat .roar/pgpass)" "s3cr3t-pw" ".roar/pgpass"
assert_eq "$("$ROAR" config get store.url)" "'$PG_URL'" "store.url without the password"

check "an unreachable server's error shows the URL with the password redacted"
mkdir -p "$TEST_TMP/d" && cd "$TEST_TMP/d"
dead=$(free_port)
expect_failure "$ROAR" init --store "postgresql://roar:s3cr3t-pw@127.0.0.1:$dead/roar" --join team
assert_not_contains "$ERR_OUT" "s3cr3t-pw" "error"
assert_contains "$ERR_OUT" "postgresql://roar:***@127.0.0.1:$dead/roar" "error"
expect_failure env ROAR_STORE_URL="postgresql://roar:s3cr3t-pw@127.0.0.1:$dead/roar" "$ROAR" log
assert_not_contains "$ERR_OUT" "s3cr3t-pw" "ROAR_STORE_URL error"

check "a URL libpq cannot parse: its message quotes the URI, without the password"
expect_failure "$ROAR" init --store "postgresql://roar:s3cr3t-pw@[::1/roar" --join team
assert_contains "$ERR_OUT" "cannot connect to the store" "error"
assert_not_contains "$ERR_OUT" "s3cr3t-pw" "malformed URL error"
expect_failure "$ROAR" init --store "postgresql://roar:s3cr3t%ZZpw@127.0.0.1:$dead/roar" --join team
assert_not_contains "$ERR_OUT" "s3cr3t" "bad percent-escape error"

check "roar config set refuses a store.url with a password"
cd "$TEST_TMP/a"
expect_failure "$ROAR" config set store.url "$pw_url"
assert_not_contains "$ERR_OUT" "s3cr3t-pw" "config set error"
assert_not_contains "$(cat roar.toml)" "s3cr3t-pw" "roar.toml after config set"

check "roar config set refuses a store.url that is not a store roar can use"
expect_failure "$ROAR" config set store.url ftp://user:pw@host/x
assert_contains "$ERR_OUT" "is not a store roar can use" "config set error"
assert_not_contains "$ERR_OUT" ":pw@" "no password in the error"
assert_not_contains "$(cat roar.toml)" "ftp://" "roar.toml after config set"

check "ROAR_STORE_URL makes roar init use the shared store"
mkdir -p "$TEST_TMP/e" && cd "$TEST_TMP/e"
ROAR_STORE_URL=$PG_URL "$ROAR" init --join team >/dev/null
assert_eq "$("$ROAR" config get store.url)" "'$PG_URL'" "store.url from ROAR_STORE_URL"
assert_eq "$("$ROAR" log --json | jq length)" 1 "the joined project's job is visible"

check "a read command on a project the store does not have names it and how to create it"
mkdir -p "$TEST_TMP/f" && cd "$TEST_TMP/f"
ROAR_STORE_URL=$PG_URL "$ROAR" init --join team >/dev/null
"$ROAR" config set store.project ghost >/dev/null
expect_failure "$ROAR" log
assert_contains "$ERR_OUT" "has no project 'ghost'" "log"
assert_contains "$ERR_OUT" "--join ghost" "log"
expect_failure "$ROAR" show @1
assert_contains "$ERR_OUT" "has no project 'ghost'" "show"
assert_eq "$(pg_sql -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'roar_ghost'")" 0 "no schema made by reading"
