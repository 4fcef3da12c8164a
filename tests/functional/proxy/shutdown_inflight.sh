# SIGTERM while a slow download is in flight: the proxy stops accepting at
# once, gives in-flight requests a few seconds, then aborts them and exits
# 0 (well within 10 s). Idle keep-alive connections do not hold it up.
source "$(dirname "$0")/lib_s3.sh"
start_s3rver slow
start_proxy "$S3RVER_URL"
head -c $((40 * 1024 * 1024)) /dev/urandom >"$TEST_TMP/obj.bin"
sig=(--aws-sigv4 "aws:amz:us-east-1:s3" --user S3RVER:S3RVER -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")
curl -fsS "${sig[@]}" -T "$TEST_TMP/obj.bin" -o /dev/null "$PROXY_URL/slow/obj.bin"
# An idle keep-alive connection (python holds it open) and a slow reader.
python3 -c '
import http.client, sys, time
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1])); c.request("GET", "/_roar/health"); c.getresponse().read()
time.sleep(30)' "$PROXY_PORT" &
idle=$!
on_exit "kill $idle 2>/dev/null"
curl -sS "${sig[@]}" --limit-rate 1M -o "$TEST_TMP/partial.bin" "$PROXY_URL/slow/obj.bin" 2>/dev/null &
slow=$!
sleep 1
assert_eq "$(metric roar_proxy_inflight_requests)" 2 "in-flight (slow GET + this scrape)"
start=$SECONDS
stop_proxy
elapsed=$((SECONDS - start))
((elapsed <= 8)) || fail "shutdown took ${elapsed}s"
wait "$slow" && fail "the slow download completed although the proxy was stopped" || true
size=$(stat -c %s "$TEST_TMP/partial.bin")
((size < 40 * 1024 * 1024)) || fail "slow download was not cut"
assert_contains "$(cat "$TEST_TMP/proxy.log")" "aborting 1 in-flight session" "proxy log"
if (exec 3<>"/dev/tcp/127.0.0.1/$PROXY_PORT") 2>/dev/null; then fail "still accepting after SIGTERM"; fi
