# roar log across sessions: headers where a session starts, --session N /
# current, -n (newest N, still oldest first), --failed, and clear errors
# for a session that does not exist or a bad count.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_lineage.bash"
new_project
assert_contains "$("$ROAR" log)" "No jobs recorded yet" "empty project"
printf 'a\n' >in.txt
write_copy_script copy.py
run copy.py in.txt a.txt
run copy.py a.txt b.txt
"$ROAR" reset >/dev/null
run copy.py b.txt c.txt
"$ROAR" run -q "$PY" -c 'import sys; sys.exit(3)' || true
run copy.py c.txt d.txt

all=$("$ROAR" log --json)
assert_eq "$(jq length <<<"$all")" 5 "every job"
assert_eq "$(jq -c '[.[].session]' <<<"$all")" "[1,1,2,2,2]" "sessions in order"
text=$("$ROAR" --no-color log)
assert_contains "$text" "-- session 1 --" "header of the old session"
assert_contains "$text" "-- session 2 (current) --" "header of the current session"
assert_eq "$(grep -c '^-- session' <<<"$text")" 2 "one header per session"

cur=$("$ROAR" log --session current --json)
assert_eq "$(jq -c '[.[].step]' <<<"$cur")" "[1,2,3]" "current session's steps"
assert_not_contains "$("$ROAR" --no-color log --session current)" "-- session" "no header for one session"
assert_eq "$("$ROAR" log --session 1 --json | jq -r '[.[] | .command | split(" ")[-1]] | join(",")')" \
  "a.txt,b.txt" "session 1 by number"

last=$("$ROAR" log -n 2 --json)
assert_eq "$(jq -r '[.[] | .command | split(" ")[-1]] | join(",")' <<<"$last")" \
  "sys.exit(3)',d.txt" "the newest two, oldest first"
failed=$("$ROAR" log --failed --json)
assert_eq "$(jq length <<<"$failed")" 1 "one failed job"
assert_eq "$(jq -r '.[0].status' <<<"$failed")" failed "its status"
assert_eq "$(jq -r '.[0].exit_code' <<<"$failed")" 3 "its exit code"
assert_eq "$("$ROAR" log --failed --session 1 --json | jq length)" 0 "no failures in session 1"
assert_contains "$("$ROAR" log --failed --session 1)" "No jobs match." "empty filter result"

expect_failure "$ROAR" log --session 9
assert_contains "$("$ROAR" log --session 9 2>&1 || true)" "no session 9" "unknown session"
assert_contains "$("$ROAR" log --session x 2>&1 || true)" "session number or 'current'" "bad session"
assert_contains "$("$ROAR" log -n 0 2>&1 || true)" "0 is out of range (valid: 1 to" "bad count"
echo ok
