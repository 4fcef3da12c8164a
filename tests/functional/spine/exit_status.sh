# roar run is transparent: exit status, signals, stdin/stdout pass through,
# and failing commands are still recorded.
. "$(dirname "$0")/../lib/common.sh"
need python3
new_project
set +e
"$ROAR" run -q sh -c 'echo partial > out.txt; exit 3'
rc=$?
set -e
assert_eq "$rc" 3 "exit status passes through"
j=$(show_json @1)
assert_eq "$(jq -r .exit_code <<<"$j")" 3 "failing command recorded"
assert_eq "$(io_paths "$j" outputs)" "$PROJECT/out.txt" "failing command's outputs"

assert_eq "$(echo hello | "$ROAR" run -q tr a-z A-Z)" "HELLO" "stdin/stdout pass through"
assert_eq "$("$ROAR" run -q sh -c 'echo err >&2' 2>&1 >/dev/null)" "err" "stderr passes through"
"$ROAR" run sh -c 'true' 2>report.txt
assert_contains "$(cat report.txt)" "exit 0" "report on stderr"
"$ROAR" run -q true 2>quiet.txt
assert_eq "$(cat quiet.txt)" "" "-q silences the report"

# SIGTERM to roar reaches the job; roar records it and exits 128+15.
"$ROAR" run -q "$PYTHON" -c 'import time; open("started", "w").close(); time.sleep(60)' &
roar_pid=$!
for _ in $(seq 100); do [[ -e started ]] && break; sleep 0.1; done
kill -TERM $roar_pid
set +e
wait $roar_pid
rc=$?
set -e
assert_eq "$rc" 143 "SIGTERM forwarded"
last=$("$ROAR" log --json | jq -r '.[-1].exit_code')
assert_eq "$last" 143 "terminated job recorded"

# A job killed by a signal: roar records it, then dies of the same signal,
# so its parent sees a death by signal, as it would of the job (Python's
# negative returncode, a shell's "Terminated"), and leaves no core file.
cat >"$TEST_TMP/killed.py" <<'PY'
import os, subprocess, sys
roar = sys.argv[1]
# The job dumps its own core in job/ (core_pattern "core"): roar's would land here.
for sig, cmd in ((15, "kill -TERM $$"), (11, "cd job && kill -SEGV $$"), (9, "kill -KILL $$")):
    plain = subprocess.run(["sh", "-c", cmd]).returncode
    traced = subprocess.run([roar, "run", "-q", "sh", "-c", cmd]).returncode
    print(sig, plain, traced)
PY
mkdir -p cores/job && cd cores
while read -r sig plain traced; do
  assert_eq "$plain" "-$sig" "the job alone dies of signal $sig"
  assert_eq "$traced" "-$sig" "roar run dies of signal $sig too"
done < <(ulimit -c unlimited 2>/dev/null; "$PYTHON" "$TEST_TMP/killed.py" "$ROAR")
assert_eq "$(ls | grep -c '^core' || true)" 0 "no core file of roar's (the job's own are in job/)"
cd "$PROJECT"
assert_eq "$("$ROAR" log --json | jq -r '[.[-3:][] | .exit_code] | join(",")')" "143,139,137" "the three jobs recorded"
set +e
"$ROAR" run -q sh -c 'exit 143'
rc=$?
set -e
assert_eq "$rc" 143 "a job exiting 143 of its own is an exit, not a signal"

# Ctrl-C: the terminal signals the whole foreground group; roar survives
# it, the job handles it, and the job is recorded. (A background job of a
# script starts with SIGINT ignored: restore the default, as a terminal has.)
rm -f started
"$PYTHON" -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.setsid(); os.execv(sys.argv[1], sys.argv[1:])' \
  "$ROAR" run -q "$PYTHON" -c 'import time; open("started", "w").close(); time.sleep(60)' 2>/dev/null &
leader=$!
for _ in $(seq 100); do [[ -e started ]] && break; sleep 0.1; done
kill -INT -- -"$leader"
set +e
wait $leader
rc=$?
set -e
assert_eq "$rc" 130 "python re-raises SIGINT after KeyboardInterrupt: 128+2"
assert_eq "$("$ROAR" log --json | jq -r '.[-1].exit_code')" 130 "interrupted job recorded"
echo ok
