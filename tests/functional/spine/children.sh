# Child processes are part of the job, however they are started and
# whatever environment they are given.
. "$(dirname "$0")/../lib/common.sh"
need python3 b3sum
new_project
for f in a c e g i; do echo "content $f" >"$f.txt"; done
cat >spawn.py <<'PY'
import os, subprocess
subprocess.run(["/bin/cp", "a.txt", "b.txt"], env={}, check=True)       # scrubbed environment
subprocess.run("cat c.txt > d.txt", shell=True, check=True)              # sh -c
os.system("cp e.txt f.txt")                                              # system()
pid = os.posix_spawn("/bin/cp", ["cp", "g.txt", "h.txt"], {})            # posix_spawn, empty env
os.waitpid(pid, 0)
subprocess.run(["env", "-i", "/bin/sh", "-c", "cp i.txt j.txt"], check=True)  # env -i
PY
"$ROAR" run -q "$PYTHON" spawn.py
j=$(show_json @1)
for f in a c e g i; do
  assert_eq "$(io_digest "$j" inputs "$PROJECT/$f.txt")" "$(b3 "$f.txt")" "input $f.txt"
done
for f in b d f h j; do
  assert_eq "$(io_digest "$j" outputs "$PROJECT/$f.txt")" "$(b3 "$f.txt")" "output $f.txt"
done
# The process tree holds the children, with python3 at the root.
assert_eq "$(jq '[.processes[] | select(.argv[0] == "cp" or .argv[0] == "/bin/cp")] | length' <<<"$j")" 4 "cp processes"
assert_eq "$(jq -r '.processes[0].argv[0]' <<<"$j")" "$PYTHON" "root"
assert_eq "$(jq '[.processes[] | select(.observed == false)] | length' <<<"$j")" 0 "all observed"
echo ok
