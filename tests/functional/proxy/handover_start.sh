# roar run binds its job proxy's listening socket itself and hands it to
# roar-proxy (--listen-fd), so the job starts without waiting for the
# proxy: S3 connections made meanwhile wait in the socket's queue until the
# proxy serves them, a job with no S3 traffic never waits for it, and a
# proxy that dies before it listens costs the job nothing but the record of
# its S3 calls, which the job's notes say. The proxy itself is started
# with the job's first S3 connection or once the job has run a delay: a
# short job with no S3 traffic never starts one. A stand-in roar-proxy
# (ROAR_PROXY_BINARY) makes the proxy slow to start, or fail, or marks
# that it was started.
source "$(dirname "$0")/lib_s3.sh"
need b3sum
start_moto
python3 -c 'import sys, boto3; boto3.client("s3", endpoint_url=sys.argv[1]).create_bucket(Bucket="handover")' \
  "$MOTO_URL"
export ROAR_UPSTREAM_S3_ENDPOINT=$MOTO_URL
new_project
"$ROAR" proxy enable >/dev/null
real_proxy=$(dirname "$ROAR")/roar-proxy
printf '#!/bin/sh\nsleep 3\nexec %q "$@"\n' "$real_proxy" >"$TEST_TMP/slow-proxy"
cat >"$TEST_TMP/failing-proxy" <<'SH'
#!/bin/sh
while [ $# -gt 0 ]; do [ "$1" = --log-file ] && echo "simulated start-up failure" >>"$2"; shift; done
exit 1
SH
printf '#!/bin/sh\necho started >>%q\nexec %q "$@"\n' "$TEST_TMP/proxy-started" "$real_proxy" >"$TEST_TMP/marking-proxy"
chmod +x "$TEST_TMP/slow-proxy" "$TEST_TMP/failing-proxy" "$TEST_TMP/marking-proxy"
cat >put.py <<'PY'
import sys, boto3
boto3.client("s3", endpoint_url=sys.argv[1]).put_object(Bucket="handover", Key=sys.argv[2], Body=open(sys.argv[3], "rb").read())
PY
echo "written while the proxy started" >early.local
echo "written with no proxy" >direct.local
last_job() { "$ROAR" log --json | jq -r '.[-1].job_id'; }

check "a job with no S3 traffic does not wait for its proxy to start"
before=$(date +%s%N)
ROAR_PROXY_BINARY=$TEST_TMP/slow-proxy "$ROAR" run -q true
elapsed_ms=$((($(date +%s%N) - before) / 1000000))
((elapsed_ms < 2500)) || fail "roar run true took $elapsed_ms ms with a proxy that needs 3 s to start"
assert_eq "$(show_json "$(last_job)" | jq -r '.notes // [] | map(select(test("proxy"))) | length')" 0 "proxy notes"

# The delay is 20 ms; ROAR_PROXY_START_DELAY_MS sets it here, so that
# neither check depends on how fast this machine (or a sanitizer build) is.
check "a job shorter than the delay with no S3 traffic never starts its proxy"
rm -f "$TEST_TMP/proxy-started"
ROAR_PROXY_START_DELAY_MS=60000 ROAR_PROXY_BINARY=$TEST_TMP/marking-proxy "$ROAR" run -q sleep 0.3
[[ ! -e $TEST_TMP/proxy-started ]] || fail "roar-proxy was started for 'sleep 0.3' with a 60 s delay"

check "a job that runs past the delay starts its proxy without an S3 call"
ROAR_PROXY_START_DELAY_MS=50 ROAR_PROXY_BINARY=$TEST_TMP/marking-proxy "$ROAR" run -q sleep 0.5
assert_eq "$(cat "$TEST_TMP/proxy-started" 2>/dev/null)" "started" "proxy started during 'sleep 0.5'"

check "an S3 call starts the proxy before the delay and is recorded"
echo "written before the delay" >soon.local
ROAR_PROXY_START_DELAY_MS=60000 "$ROAR" run -q python3 put.py "$MOTO_URL" soon.txt soon.local
out=$(show_json "$(last_job)" | jq -c '.outputs[] | select(.path == "s3://handover/soon.txt")')
[[ -n $out ]] || fail "S3 output missing: $out"
assert_eq "$(jq -r .hashes.blake3 <<<"$out")" "$(b3 soon.local)" "output BLAKE3"

check "an S3 call made while the proxy starts waits for it and is recorded"
ROAR_PROXY_BINARY=$TEST_TMP/slow-proxy "$ROAR" run -q python3 put.py "$MOTO_URL" early.txt early.local
out=$(show_json "$(last_job)" | jq -c '.outputs[] | select(.path == "s3://handover/early.txt")')
[[ -n $out ]] || fail "S3 output missing: $out"
assert_eq "$(jq -r .hashes.blake3 <<<"$out")" "$(b3 early.local)" "output BLAKE3"

check "a proxy that ends before it listens: the job runs, its S3 call goes to the server directly, and the notes say why"
ROAR_PROXY_BINARY=$TEST_TMP/failing-proxy "$ROAR" run -q python3 put.py "$MOTO_URL" direct.txt direct.local ||
  fail "the job failed with a failing proxy"
assert_eq "$(moto_etag handover direct.txt)" "\"$(md5sum <direct.local | cut -d' ' -f1)\"" "object written directly"
job=$(last_job)
notes=$(show_json "$job" | jq -r '.notes // [] | join("\n")')
assert_contains "$notes" "roar-proxy ended before it listened" "start failure note"
assert_contains "$notes" "simulated start-up failure" "the proxy's own words, from its log"
assert_contains "$notes" "S3 calls of this job were not observed" "what the job lacks"
assert_eq "$(show_json "$job" | jq '[.outputs[] | select(.path | startswith("s3://"))] | length')" 0 "no S3 output recorded"
