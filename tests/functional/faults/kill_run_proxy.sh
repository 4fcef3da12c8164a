# SIGKILL of `roar run` with the S3 proxy on, at random points while the
# job uploads through it: the database stays intact, nothing recorded
# earlier is lost or changed, a killed job is recorded completely or not
# at all, its ring is gone after the next run, and the next run starts its
# own proxy and records its S3 outputs. (That the killed run's proxy exits
# is kill_run_proxy_orphans.sh.)
source "$(dirname "$0")/../proxy/lib_s3.sh"
. "$(dirname "$0")/lib_faults.bash"
need curl
start_s3rver bucket
export ROAR_UPSTREAM_S3_ENDPOINT=$S3RVER_URL
# The job talks to the upstream itself; the shim routes it to the job's proxy.
export S3_URL=$S3RVER_URL
new_project
"$ROAR" proxy enable >/dev/null
iterations=${ROAR_FAULT_ITERATIONS:-4}
objects=12

cat >job.sh <<'SH'
out=$1
mkdir -p "$out"
printf %s "$ROAR_RING" >"$out/ring"
i=0
while [ "$i" -lt "$2" ]; do
  i=$((i + 1))
  head -c 20000 /dev/urandom >"$out/o$i.bin"
  curl -fsS --aws-sigv4 aws:amz:us-east-1:s3 --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -T "$out/o$i.bin" -o /dev/null "$S3_URL/bucket/$out/o$i.bin"
done
SH
s3_outputs() { jq --arg d "$2" '[.outputs[] | select(.kind == "s3" and (.path | startswith("s3://bucket/" + $d + "/")))] | length' <<<"$1"; }

check "clean runs through the proxy before any fault are recorded with their S3 outputs"
for i in 1 2; do
  start=$(now_ms)
  "$ROAR" run -q sh job.sh "base$i" "$objects"
  duration=$(($(now_ms) - start))
  assert_eq "$(s3_outputs "$(last_job)" "base$i")" "$objects" "S3 outputs of clean run $i"
done
snapshot_history "$TEST_TMP/history"
echo "a clean run takes ${duration} ms" >&2

recorded_killed=0
for ((it = 1; it <= iterations; it++)); do
  delay=$(rand_ms $((duration * 13 / 10)))
  check "SIGKILL $it/$iterations after ${delay} ms (proxy on) keeps the history intact"
  FAULT_MARK=$FAULT_MARK "$ROAR" run -q sh job.sh "kill$it" "$objects" &
  roar_pid=$!
  ms_sleep "$delay"
  kill -9 "$roar_pid" 2>/dev/null || true
  wait "$roar_pid" 2>/dev/null || true
  kill_marked # the job and its proxy; whether they exit by themselves is kill_run_proxy_orphans.sh
  wait_no_marked 10 || fail "the killed job's processes did not die after SIGKILL"
  db_ok "after kill $it"
  assert_history_kept "$TEST_TMP/history" "after kill $it"

  check "a killed job ($it) is recorded completely or not at all"
  id=$("$ROAR" log --json | jq -r '.[] | select(.command | contains("kill'"$it"' ")) | .job_id')
  if [[ -n "$id" ]]; then
    assert_eq "$(s3_outputs "$(show_json "$id")" "kill$it")" "$objects" "S3 outputs of the killed job recorded before its kill"
    recorded_killed=$((recorded_killed + 1))
  fi

  check "the next run after kill $it removes the killed job's ring and records through a new proxy"
  ring=$(cat "kill$it/ring" 2>/dev/null || true)
  "$ROAR" run -q sh job.sh "next$it" 2
  if [[ -n "$ring" && -e "/dev/shm${ring}" ]]; then
    fail "the killed job's ring /dev/shm${ring} is still there after the next run"
  fi
  assert_eq "$(s3_outputs "$(last_job)" "next$it")" 2 "S3 outputs of the run after the kill"
  snapshot_history "$TEST_TMP/history"
done

check "the history holds every stored job"
assert_eq "$("$ROAR" log --json | jq length)" $((2 + iterations + recorded_killed)) "jobs recorded"
db_ok "at the end"
echo "ok ($recorded_killed of $iterations killed jobs had been stored before the kill)"
