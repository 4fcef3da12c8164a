# SIGKILL in the middle of writing: the job is still recorded, the other
# processes' events are intact, and the killed process is marked.
. "$(dirname "$0")/../lib/common.sh"
need python3
new_project
cat >killer.py <<'PY'
import os, signal, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", """
import time
with open('partial.bin', 'wb') as f:
    while True:
        f.write(b'x' * 65536); f.flush(); time.sleep(0.001)
"""])
while not os.path.exists("partial.bin") or os.path.getsize("partial.bin") < 1 << 20:
    time.sleep(0.01)
os.kill(child.pid, signal.SIGKILL)
child.wait()
open("after.txt", "w").write("parent carried on\n")
PY
"$ROAR" run -q "$PYTHON" killer.py
j=$(show_json @1)
assert_eq "$(jq -r .exit_code <<<"$j")" 0 "job exit"
assert_eq "$(io_digest "$j" outputs "$PROJECT/after.txt")" "$(b3sum --no-names after.txt)" "parent output intact"
assert_eq "$(io_digest "$j" outputs "$PROJECT/partial.bin")" "$(b3sum --no-names partial.bin)" "partial output recorded"
killed=$(jq -c '[.processes[] | select(.signal == 9)]' <<<"$j")
assert_eq "$(jq length <<<"$killed")" 1 "one killed process"
assert_contains "$(jq -r '.[0].notes | join(";")' <<<"$killed")" "killed by signal 9" "killed note"
assert_eq "$(jq -r '.[0].exit_code' <<<"$killed")" 137 "killed exit code"

# The root itself killed: roar exits 128+9 and still records the job.
set +e
"$ROAR" run -q sh -c 'echo x > before-kill.txt; kill -9 $$'
rc=$?
set -e
assert_eq "$rc" 137 "roar's exit status for a killed command"
j=$(show_json @2)
assert_eq "$(jq -r .exit_code <<<"$j")" 137 "recorded exit code"
assert_eq "$(jq -r .signal <<<"$j")" 9 "recorded signal"
assert_eq "$(io_paths "$j" outputs)" "$PROJECT/before-kill.txt" "output before the kill"
echo ok
