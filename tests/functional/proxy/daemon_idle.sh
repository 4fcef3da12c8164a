# The standalone daemon's timing keys (roar.toml [proxy]): with
# proxy.daemon_idle_seconds = 1 a client that made one call and then
# stays running has its job stored after a second of quiet, while it
# still lives (the default, 60 s, would keep it open for the whole
# test); proxy.daemon_exit_check_ms sets how often exited clients are
# looked for. Values outside their ranges are refused naming the range.
source "$(dirname "$0")/lib_s3.sh"
start_moto
daemon_project

check "the daemon's timing keys refuse values outside their ranges"
expect_failure "$ROAR" config set proxy.daemon_idle_seconds 0
assert_contains "$ERR_OUT" "out of range (valid: 1 to 86400)" "roar config set of the idle time 0"
expect_failure "$ROAR" config set proxy.daemon_exit_check_ms 5
assert_contains "$ERR_OUT" "out of range (valid: 10 to 60000)" "roar config set of a 5 ms exit check"
sed -i 's/^daemon_idle_seconds = .*/daemon_idle_seconds = 100000/' roar.toml
grep -q '^daemon_idle_seconds = 100000$' roar.toml || fail "roar.toml has no daemon_idle_seconds line to edit"
expect_failure "$ROAR" proxy start
assert_contains "$ERR_OUT" "proxy.daemon_idle_seconds: 100000 is out of range (valid: 1 to 86400)" \
  "roar proxy start with a hand-edited idle time"
sed -i 's/^daemon_idle_seconds = .*/daemon_idle_seconds = 60/' roar.toml

check "a client quiet for proxy.daemon_idle_seconds has its job stored while it still runs"
"$ROAR" config set proxy.daemon_idle_seconds 1 >/dev/null
"$ROAR" config set proxy.daemon_exit_check_ms 100 >/dev/null
out=$("$ROAR" proxy start)
[[ "$out" =~ Proxy\ daemon\ started\ \(pid=([0-9]+),\ port=$port\) ]] || fail "unexpected: $out"
on_exit "kill -9 ${BASH_REMATCH[1]} 2>/dev/null"
"$PYTHON" - "$URL" <<'PY' &
import os, sys, time, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1])
s3.create_bucket(Bucket="idle")
s3.put_object(Bucket="idle", Key="quiet.txt", Body=b"quiet")
open("client.pid", "w").write(str(os.getpid()))
time.sleep(60)
PY
client=$!
on_exit "kill $client 2>/dev/null"
stored=""
for ((i = 0; i < 100; i++)); do
  if [[ -s client.pid ]] && "$ROAR" show --json s3://idle/quiet.txt >art.json 2>/dev/null; then
    stored=yes
    break
  fi
  sleep 0.1
done
[[ $stored == yes ]] || fail "no job stored within 10 s of the client's call"
kill -0 "$client" 2>/dev/null || fail "the client should still be running"
assert_eq "$(jq -r '.produced_by[0].pid' <<<"$(cat art.json)")" "$(cat client.pid)" "the stored job's writer"
assert_eq "$(ls .roar/proxy-daemon)" "" "the stored job's journal"
kill "$client"
"$ROAR" proxy stop >/dev/null
echo ok
