# The standalone daemon records into its project (issue 17, attribution):
# `roar proxy start` in a project, then real clients (aws CLI, boto3)
# against its address with moto (SigV4 checked) upstream. Each client
# process gets a job of its own (kind "proxy", its command line from
# /proc), with its S3 outputs and inputs carrying its pid; `roar show
# s3://b/k` names the writer and the reader with their pids; `roar log`,
# `roar dag` and `roar status` list the jobs like any. A daemon killed with
# SIGKILL after a call keeps that call: the open job's journal is stored
# by the next `roar proxy stop`; a daemon whose roar-proxy is killed
# stores its open jobs itself. Runs on both engines (proxy-postgres/).
source "$(dirname "$0")/lib_s3.sh"
need aws
start_moto
daemon_project

# start_daemon: `roar proxy start`, its pid in DAEMON_PID (killed at exit).
start_daemon() {
  local out
  out=$("$ROAR" proxy start)
  [[ "$out" =~ Proxy\ daemon\ started\ \(pid=([0-9]+),\ port=$port\) ]] || fail "unexpected: $out"
  DAEMON_PID=${BASH_REMATCH[1]}
  on_exit "kill -9 $DAEMON_PID 2>/dev/null"
}

# start_long_client KEY: a boto3 process that puts s3://daemon/KEY, writes
# its pid to long.pid and stays running; its pid in LONG_PID (killed at exit).
start_long_client() {
  rm -f long.pid
  "$PYTHON" - "$URL" "$1" <<'PY' &
import os, sys, time, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1])
s3.put_object(Bucket="daemon", Key=sys.argv[2], Body=sys.argv[2].encode())
open("long.pid", "w").write(str(os.getpid()))
time.sleep(60)
PY
  LONG_PID=$!
  on_exit "kill $LONG_PID 2>/dev/null"
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -s long.pid ]] && return
    sleep 0.1
  done
  fail "the long-running client did not make its call"
}

check "roar proxy start runs the recording daemon"
start_daemon
assert_eq "$(cat /proc/"$DAEMON_PID"/comm)" roar-proxyd "the daemon's process name"
assert_eq "$(curl -fsS "$URL/_roar/health")" ok "health through the daemon's proxy"

head -c 300000 /dev/urandom >data.bin
aws --endpoint-url "$URL" s3 mb s3://daemon >/dev/null
# The writer: an aws CLI process whose pid is known ($$ survives the exec).
sh -c 'echo $$ >writer.pid; exec aws --endpoint-url "$1" s3 cp data.bin s3://daemon/in/data.bin' sh "$URL" >/dev/null
# The reader: another process, boto3.
"$PYTHON" - "$URL" >reader.pid <<'PY'
import os, sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1])
assert len(s3.get_object(Bucket="daemon", Key="in/data.bin")["Body"].read()) == 300000
print(os.getpid())
PY
writer=$(cat writer.pid)
reader=$(cat reader.pid)

check "roar proxy stop stores the open jobs"
assert_contains "$("$ROAR" proxy stop)" "Proxy daemon stopped (pid=$DAEMON_PID)" "stop"
kill -0 "$DAEMON_PID" 2>/dev/null && fail "daemon still running after stop"
[[ -z "$(ls .roar/proxy-daemon)" ]] || fail "journals left after a clean stop: $(ls .roar/proxy-daemon)"

check "roar log lists one proxy-daemon job per client process"
log=$("$ROAR" log --json)
proxy_jobs=$(jq '[.[] | select(.kind == "proxy")] | length' <<<"$log")
[[ $proxy_jobs -ge 2 ]] || fail "expected the writer's and the reader's jobs: $log"
writer_job=$(jq -r '[.[] | select(.kind == "proxy" and (.command | contains("s3 cp data.bin")))][0].job_id' <<<"$log")
reader_job=$(jq -r --arg u "$URL" '[.[] | select(.kind == "proxy" and (.command | endswith(" - " + $u)))][0].job_id' \
  <<<"$log")
[[ $writer_job != null && $reader_job != null ]] || fail "no writer or reader job: $log"
assert_ne "$writer_job" "$reader_job" "the writer's and the reader's jobs"
assert_contains "$("$ROAR" log)" "[proxy daemon] " "the text log marks the daemon's jobs"

check "the writer's job has the S3 output with the aws process's pid"
wj=$(show_json "$writer_job")
assert_eq "$(jq -r .kind <<<"$wj")" proxy "kind in roar show --json"
assert_eq "$(jq -r '.processes[0].pid' <<<"$wj")" "$writer" "the job's process"
assert_eq "$(jq -r '.processes[0].tracer' <<<"$wj")" proxy "the process's tracer"
assert_eq "$(jq -r '.outputs[] | select(.path == "s3://daemon/in/data.bin") | .pid' <<<"$wj")" "$writer" "output pid"
if command -v b3sum >/dev/null; then
  assert_eq "$(jq -r '.outputs[0].hashes.blake3' <<<"$wj")" "$(b3sum --no-names data.bin)" "the output's BLAKE3"
fi
assert_contains "$("$ROAR" show "$writer_job")" "kind      proxy daemon" "roar show's text"

check "the reader's job has the S3 input with the boto3 process's pid"
rj=$(show_json "$reader_job")
assert_eq "$(jq -r '.inputs[] | select(.path == "s3://daemon/in/data.bin") | .pid' <<<"$rj")" "$reader" "input pid"
assert_eq "$(jq -r '.outputs | length' <<<"$rj")" 0 "the reader wrote nothing"

check "roar show s3://b/k names the job that wrote it and the one that read it, with their pids"
art=$("$ROAR" show --json s3://daemon/in/data.bin)
assert_eq "$(jq -r '.produced_by[0].job_id' <<<"$art")" "$writer_job" "produced_by"
assert_eq "$(jq -r '.produced_by[0].pid' <<<"$art")" "$writer" "the producer's pid"
assert_eq "$(jq -r '.consumed_by[0].job_id' <<<"$art")" "$reader_job" "consumed_by"
assert_eq "$(jq -r '.consumed_by[0].pid' <<<"$art")" "$reader" "the consumer's pid"
text=$("$ROAR" show s3://daemon/in/data.bin)
assert_contains "$text" "pid $writer" "the text view's producer pid"
assert_contains "$text" "pid $reader" "the text view's consumer pid"

check "roar dag and roar status show the daemon's jobs as steps"
dag=$("$ROAR" dag --json)
jq -e --arg u "$writer_job" '[.. | strings | select(. == $u)] | length > 0' <<<"$dag" >/dev/null ||
  jq -e '[.. | strings | select(contains("s3 cp data.bin"))] | length > 0' <<<"$dag" >/dev/null ||
  fail "the writer's job is not in the dag: $dag"
"$ROAR" status >status.txt || fail "roar status failed: $(cat status.txt)"

check "a daemon killed with SIGKILL after a call keeps that call"
start_daemon
start_long_client out/kept.txt
sleep 0.5 # the documented bound: a drained event is in the journal at once; the ring is drained within 250 ms
proxy_pid=$(pgrep -P "$DAEMON_PID" roar-proxy)
kill -9 "$DAEMON_PID"
for ((i = 0; i < 50; i++)); do
  kill -0 "$proxy_pid" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$proxy_pid" 2>/dev/null && fail "roar-proxy outlived its killed daemon"
[[ -n "$(ls .roar/proxy-daemon)" ]] || fail "the killed daemon left no journal"
kill "$LONG_PID"
out=$("$ROAR" proxy stop)
assert_contains "$out" "stored the 1 job it had open when it was killed" "stop after a kill"
art=$("$ROAR" show --json s3://daemon/out/kept.txt)
assert_eq "$(jq -r '.produced_by[0].pid' <<<"$art")" "$(cat long.pid)" "the killed daemon's call's writer"
[[ -z "$(ls .roar/proxy-daemon)" ]] || fail "journals left after they were stored"

check "when its roar-proxy is killed, the daemon stores its open jobs and exits"
start_daemon
start_long_client out/third.txt
kill -9 "$(pgrep -P "$DAEMON_PID" roar-proxy)"
for ((i = 0; i < 100; i++)); do
  kill -0 "$DAEMON_PID" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$DAEMON_PID" 2>/dev/null && fail "the daemon outlived its proxy by 10 s"
kill -0 "$LONG_PID" 2>/dev/null || fail "the client should still be running"
art=$("$ROAR" show --json s3://daemon/out/third.txt)
assert_eq "$(jq -r '.produced_by[0].pid' <<<"$art")" "$(cat long.pid)" "the still-running client's job"
assert_contains "$("$ROAR" proxy)" "daemon:   not running" "status after the daemon exited"
kill "$LONG_PID"
echo ok
