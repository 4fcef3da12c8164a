# Every number roar reads is range-checked (issue 10 items 15 and 16): a
# step, session or count on the command line, and every numeric roar.toml
# key, fail with one line that gives the valid range, never an internal
# error or a silent wrap-around.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_lineage.bash"
new_project
printf 'a\n' >in.txt
write_copy_script copy.py
run copy.py in.txt out.txt

one_line_error() { # what: ERR_OUT is one line, names the range, and is no internal error
  assert_eq "$(wc -l <<<"$ERR_OUT")" 1 "$1: lines of the error"
  assert_not_contains "$ERR_OUT" "internal error" "$1"
}

check "a step number too large for any integer is out of range, in one line"
for cmd in show run; do
  expect_failure "$ROAR" $cmd @99999999999999999999999
  one_line_error "roar $cmd @99999999999999999999999"
  assert_contains "$ERR_OUT" "step number 99999999999999999999999 is out of range (valid: 1 to 9223372036854775807)" "roar $cmd"
done
check "step @0 is out of range"
expect_failure "$ROAR" show @0
one_line_error "roar show @0"
assert_contains "$ERR_OUT" "out of range (valid: 1 to" "roar show @0"

check "log -n is a positive whole number"
expect_failure "$ROAR" log -n 99999999999999999999
one_line_error "log -n huge"
assert_contains "$ERR_OUT" "-n (a number of jobs) 99999999999999999999 is out of range (valid: 1 to" "log -n huge"
expect_failure "$ROAR" log -n 0
assert_contains "$ERR_OUT" "out of range (valid: 1 to" "log -n 0"
expect_failure "$ROAR" log -n 3x
one_line_error "log -n 3x"
assert_contains "$ERR_OUT" "'3x' is not a whole number" "log -n 3x"
assert_eq "$("$ROAR" log -n 1 | wc -l)" 1 "log -n 1 still works"

check "log --session is a session number in range"
expect_failure "$ROAR" log --session 99999999999999999999
one_line_error "log --session huge"
assert_contains "$ERR_OUT" "is out of range (valid: 1 to" "log --session huge"

check "config set rejects a numeric value out of its documented range, naming the range"
expect_failure "$ROAR" config set run.sync_timeout_ms 4294967297
one_line_error "sync_timeout_ms"
assert_contains "$ERR_OUT" "run.sync_timeout_ms: 4294967297 is out of range (valid: 0 to 600000)" "sync_timeout_ms"
expect_failure "$ROAR" config set run.ring_size_mb 0
assert_contains "$ERR_OUT" "run.ring_size_mb: 0 is out of range (valid: 1 to 4096)" "ring_size_mb"
expect_failure "$ROAR" config set run.sync_timeout_ms 99999999999999999999
one_line_error "sync_timeout_ms beyond 64 bits"
assert_contains "$ERR_OUT" "run.sync_timeout_ms: '99999999999999999999' is not a whole number from 0 to 600000" "beyond 64 bits"
expect_failure "$ROAR" config set proxy.port 70000
assert_contains "$ERR_OUT" "proxy.port: 70000 is out of range (valid: 1 to 65535)" "proxy.port"
assert_eq "$("$ROAR" config get run.sync_timeout_ms)" 10000 "value kept after a rejected set"
"$ROAR" config set run.sync_timeout_ms 600000
assert_eq "$("$ROAR" config get run.sync_timeout_ms)" 600000 "the upper bound itself is valid"

check "roar.toml edited by hand: an out-of-range value stops every command with the range"
cp roar.toml roar.toml.good
printf '[run]\nsync_timeout_ms = 4294967297\n' >roar.toml
expect_failure "$ROAR" log
one_line_error "hand-edited sync_timeout_ms"
assert_contains "$ERR_OUT" "run.sync_timeout_ms: 4294967297 is out of range (valid: 0 to 600000)" "hand-edited"
printf '[run]\nring_size_mb = -1\n' >roar.toml
expect_failure "$ROAR" log
assert_contains "$ERR_OUT" "run.ring_size_mb: -1 is out of range (valid: 1 to 4096)" "negative ring size"
cp roar.toml.good roar.toml

check "config list documents every numeric key's range"
list=$("$ROAR" config list)
assert_contains "$list" "(1 to 4096)" "ring_size_mb range"
assert_contains "$list" "(0 to 600000)" "sync_timeout_ms range"
assert_contains "$list" "(1 to 65535)" "proxy.port range"
assert_eq "$("$ROAR" config list --json | jq -c '[.[] | select(.type == "int") | [.key, .min, .max]]')" \
  '[["run.ring_size_mb",1,4096],["run.sync_timeout_ms",0,600000],["proxy.port",1,65535],["proxy.daemon_idle_seconds",1,86400],["proxy.daemon_exit_check_ms",10,60000]]' "config list --json ranges"
echo ok
