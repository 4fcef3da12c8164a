# Bad input gets one clear line and a non-zero exit; a broken database is
# reported and never overwritten.
. "$(dirname "$0")/../lib/common.sh"
cd "$TEST_TMP"
mkdir outside && cd outside
expect_failure "$ROAR" log
assert_contains "$ERR_OUT" "roar init" "outside a project"
expect_failure "$ROAR" run true
assert_contains "$ERR_OUT" "roar init" "run outside a project"

new_project
expect_failure "$ROAR" run
assert_contains "$ERR_OUT" "needs a command" "run without a command"
expect_failure "$ROAR" show @7
assert_contains "$ERR_OUT" "no step @7" "unknown step"
expect_failure "$ROAR" show does-not-exist.txt
assert_contains "$ERR_OUT" "no job, step, path or digest" "unknown ref"
expect_failure "$ROAR" show @-x
assert_contains "$ERR_OUT" "not a step reference" "malformed step"
expect_failure "$ROAR" show @x
assert_contains "$ERR_OUT" "no step @x in this session" "unknown step name"
expect_failure "$ROAR" run ./no-such-program
assert_contains "$ERR_OUT" "cannot run './no-such-program'" "missing program"
assert_eq "$ERR_RC" 127 "exit code for a missing program"
expect_failure "$ROAR" config set proxy.enabeld true
assert_contains "$ERR_OUT" "valid keys" "unknown config key"
expect_failure "$ROAR" frobnicate
assert_eq "$(wc -l <<<"$ERR_OUT")" 1 "one line for an unknown command"

# A corrupt database: clear error, job not run, file untouched.
"$ROAR" run -q true
head -c 65536 /dev/urandom >.roar/roar.db
rm -f .roar/roar.db-wal .roar/roar.db-shm
sum=$(sha256sum .roar/roar.db)
expect_failure "$ROAR" run touch ran.txt
assert_contains "$ERR_OUT" "left untouched" "corrupt database"
[[ ! -e ran.txt ]] || fail "the job ran despite the broken database"
expect_failure "$ROAR" log
assert_eq "$(sha256sum .roar/roar.db)" "$sum" "database bytes unchanged"

# An unreadable database (a directory where the file should be).
rm .roar/roar.db && mkdir .roar/roar.db
expect_failure "$ROAR" log
assert_contains "$ERR_OUT" "roar.db" "unreadable database named"
# A broken roar.toml.
rmdir .roar/roar.db
printf '[proxy\n' >roar.toml
expect_failure "$ROAR" log
assert_contains "$ERR_OUT" "roar.toml" "broken config named"
echo ok
