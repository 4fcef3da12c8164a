# Long `roar status` and `roar export` show a progress line on stderr when
# it is a terminal (util-linux `script` gives a pty): erased before the
# output, never with --json, never when stderr is a file, and for export
# not when the events themselves go to the terminal. ROAR_PROGRESS_DELAY_MS=0
# shows the line at once, however fast this machine is.
. "$(dirname "$0")/../lib/common.sh"
need script
new_project
mkdir data
for i in $(seq 1 300); do echo "row $i" >"data/f$i.txt"; done
"$ROAR" run -q sh -c 'cat data/*.txt > all.txt'
"$ROAR" run -q sh -c 'wc -l all.txt > count.txt'
export ROAR_PROGRESS_DELAY_MS=0 TERM=xterm
# on_tty CMD: runs CMD (a shell command line) with a pty as its terminal;
# prints what reached the terminal.
on_tty() { script -qfec "$1" /dev/null </dev/null; }

check "roar status shows a progress line on a terminal, erased before the report"
tty_text=$(on_tty "'$ROAR' status >status.out")
assert_contains "$tty_text" "roar: checking: " "progress on the terminal"
assert_contains "$tty_text" "files" "what it counts"
assert_contains "$tty_text" $'\r\e[K' "the line is erased"
assert_contains "$(cat status.out)" "Tracked files: 302 present" "the report on stdout"
assert_not_contains "$(cat status.out)" "roar: checking" "stdout has no progress"

check "roar status --json has no progress line, even on a terminal"
tty_text=$(on_tty "'$ROAR' status --json >status.json")
assert_not_contains "$tty_text" "roar: checking" "terminal after --json"
assert_eq "$(jq -r .counts.present status.json)" 302 "the JSON is whole"

check "roar status with stderr in a file shows no progress line"
"$ROAR" status >status2.out 2>status.err
assert_not_contains "$(cat status.err)" "roar: checking" "stderr file"
[[ ! -s status.err ]] || fail "stderr should be empty, got: $(cat status.err)"

check "roar export to a file shows a progress line in jobs on a terminal"
tty_text=$(on_tty "'$ROAR' export --format openlineage >events.jsonl")
assert_contains "$tty_text" "roar: exporting: " "progress on the terminal"
assert_contains "$tty_text" "/2 jobs" "jobs counted against the total"
assert_eq "$(wc -l <events.jsonl)" 4 "two events per job on stdout"
assert_not_contains "$(cat events.jsonl)" "roar: exporting" "stdout has no progress"

check "roar export printing its events on the terminal shows no progress line"
tty_text=$(on_tty "'$ROAR' export --format openlineage")
assert_contains "$tty_text" '"eventType"' "events on the terminal"
assert_not_contains "$tty_text" "roar: exporting" "no progress among the events"

check "roar export with stderr in a file shows no progress line"
"$ROAR" export --format openlineage >events2.jsonl 2>export.err
[[ ! -s export.err ]] || fail "stderr should be empty, got: $(cat export.err)"

# back_to_v8: the store as schema 8 left it.
back_to_v8() {
  undo_schema_9 .roar/roar.db
  sqlite3 .roar/roar.db "PRAGMA user_version = 8"
}
if command -v sqlite3 >/dev/null; then
  check "upgrading an older store shows a progress line on a terminal, erased before the output"
  back_to_v8
  tty_text=$(on_tty "'$ROAR' log --json >log.json")
  assert_contains "$tty_text" "roar: upgrading " "progress on the terminal"
  assert_contains "$tty_text" "(schema 8 to 10, once): " "the versions"
  assert_contains "$tty_text" "/2 steps" "steps counted against the total"
  assert_contains "$tty_text" $'\r\e[K' "the line is erased"
  assert_eq "$(jq length log.json)" 2 "the log after the upgrade"
  assert_eq "$(sqlite3 .roar/roar.db 'PRAGMA user_version')" 10 "upgraded"

  check "upgrading with stderr in a file shows no progress line"
  back_to_v8
  "$ROAR" log --json >log2.json 2>upgrade.err
  [[ ! -s upgrade.err ]] || fail "stderr should be empty, got: $(cat upgrade.err)"
  assert_eq "$(sqlite3 .roar/roar.db 'PRAGMA user_version')" 10 "upgraded without a terminal"

  check "a store at the current schema shows no upgrade line on a terminal"
  tty_text=$(on_tty "'$ROAR' log --json >log3.json")
  assert_not_contains "$tty_text" "roar: upgrading" "no upgrade to show"
fi
