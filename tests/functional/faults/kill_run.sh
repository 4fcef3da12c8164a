# SIGKILL of `roar run` at random points (launch, while the job runs,
# draining, hashing, storing): the database stays intact, nothing
# recorded earlier is lost or changed, a killed job is recorded completely
# or not at all, the killed job's ring is gone from /dev/shm after the next
# run, and the next run records normally. (That the killed job's processes
# die with it is kill_run_orphans.sh.)
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_faults.bash"
need python3
new_project
iterations=${ROAR_FAULT_ITERATIONS:-6}
files=100

# The job: records its ring's name, writes $files outputs in its own
# directory and reads an input, with a child process or two.
printf 'input\n' >in.txt
cat >job.py <<'PY'
import os, subprocess, sys
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "ring"), "w") as f:
    f.write(os.environ.get("ROAR_RING", ""))
data = open("in.txt", "rb").read()
block = os.urandom(16384)
for i in range(int(sys.argv[2])):
    with open(os.path.join(out, f"f{i}.bin"), "wb") as f:
        f.write(data + block + bytes([i % 256]))
    if i % 50 == 0:
        subprocess.run(["sh", "-c", f"echo {i} > {out}/child{i}.txt"], check=True)
PY

check "clean runs before any fault are recorded"
for i in 1 2 3; do
  start=$(now_ms)
  "$ROAR" run -q "$PYTHON" job.py "base$i" "$files"
  duration=$(($(now_ms) - start))
done
assert_eq "$("$ROAR" log --json | jq length)" 3 "three jobs recorded"
snapshot_history "$TEST_TMP/history"
echo "a clean run takes ${duration} ms" >&2

recorded_killed=0
for ((it = 1; it <= iterations; it++)); do
  delay=$(rand_ms $((duration * 13 / 10)))
  check "SIGKILL $it/$iterations after ${delay} ms keeps the history intact"
  FAULT_MARK=$FAULT_MARK "$ROAR" run -q "$PYTHON" job.py "kill$it" "$files" &
  roar_pid=$!
  ms_sleep "$delay"
  kill -9 "$roar_pid" 2>/dev/null || true
  wait "$roar_pid" 2>/dev/null || true
  kill_marked # orphans are kill_run_orphans.sh's subject; here they must not interfere
  wait_no_marked 10 || fail "the killed job's processes did not die after SIGKILL"
  db_ok "after kill $it"
  assert_history_kept "$TEST_TMP/history" "after kill $it"

  check "a killed job ($it) is recorded completely or not at all"
  log=$("$ROAR" log --json)
  id=$(jq -r '.[] | select(.command | contains("kill'"$it"' ")) | .job_id' <<<"$log")
  if [[ -n "$id" ]]; then
    n=$(show_json "$id" | jq '[.outputs[] | select(.path | contains("/kill'"$it"'/f"))] | length')
    assert_eq "$n" "$files" "outputs of the killed job recorded before its kill"
    recorded_killed=$((recorded_killed + 1))
  fi

  check "the next run after kill $it removes the killed job's ring and records normally"
  ring=$(cat "kill$it/ring" 2>/dev/null || true)
  "$ROAR" run -q "$PYTHON" job.py "next$it" 3
  if [[ -n "$ring" && -e "/dev/shm${ring}" ]]; then
    fail "the killed job's ring /dev/shm${ring} is still there after the next run"
  fi
  n=$(last_job | jq '[.outputs[] | select(.path | contains("/next'"$it"'/f"))] | length')
  assert_eq "$n" 3 "outputs of the run after the kill"
  snapshot_history "$TEST_TMP/history"
done

check "the history holds the clean runs, the runs after kills, and the killed jobs that were stored"
assert_eq "$("$ROAR" log --json | jq length)" $((3 + iterations + recorded_killed)) "jobs recorded"
db_ok "at the end"
echo "ok ($recorded_killed of $iterations killed jobs had been stored before the kill)"
