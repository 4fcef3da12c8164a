# Streams a 1 GiB object (generated on the fly, sent with chunked transfer
# encoding) up through roar-proxy to nginx (WebDAV PUT: a raw-speed
# upstream) and back down, checking the bytes (BLAKE3), the proxy's peak
# RSS (VmHWM), a slow client (backpressure: the proxy must not buffer what
# nginx sends faster than the client reads) and a client that hangs up
# mid-download (no crash, no wedge). Prints throughput and added latency.
source "$(dirname "$0")/lib_s3.sh"
need nginx b3sum openssl
size_mib=${ROAR_PROXY_LARGE_MIB:-1024}
rss_limit_kib=$((64 * 1024))

port=$(free_port)
mkdir -p "$TEST_TMP/www/big" "$TEST_TMP/nginx"
cat >"$TEST_TMP/nginx.conf" <<CONF
daemon off;
user root;
worker_processes 1;
pid $TEST_TMP/nginx/nginx.pid;
error_log $TEST_TMP/nginx/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $TEST_TMP/nginx/body;
  proxy_temp_path $TEST_TMP/nginx/proxy;
  fastcgi_temp_path $TEST_TMP/nginx/fastcgi;
  uwsgi_temp_path $TEST_TMP/nginx/uwsgi;
  scgi_temp_path $TEST_TMP/nginx/scgi;
  server {
    listen 127.0.0.1:$port;
    location / {
      root $TEST_TMP/www;
      dav_methods PUT DELETE;
      create_full_put_path on;
      client_max_body_size 0;
      client_body_buffer_size 1m;
    }
  }
}
CONF
bg_start nginx nginx -e "$TEST_TMP/nginx/error.log" -c "$TEST_TMP/nginx.conf"
wait_port "$port" 10 || fail "nginx did not start"
export AWS_ACCESS_KEY_ID=AKIAROARBENCH AWS_SECRET_ACCESS_KEY=bench-secret
start_proxy "http://127.0.0.1:$port"
sig=(--aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"
  -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")
# Reproducible pseudo-random bytes (AES-CTR of zeros); openssl dies of
# SIGPIPE when head has enough, which is not an error here.
stream() { (openssl enc -aes-128-ctr -K 000102030405060708090a0b0c0d0e0f -iv 0 -nosalt </dev/zero 2>/dev/null || true) |
  head -c $((size_mib * 1024 * 1024)); }

if [[ -n "${ROAR_PROXY_BASELINE:-}" ]]; then # the same PUT straight to nginx, for comparison
  tb=$(date +%s.%N)
  stream | curl -fsS -T - -o /dev/null "http://127.0.0.1:$port/big/direct.bin"
  echo "direct PUT: $(echo "$size_mib / ($(date +%s.%N) - $tb)" | bc -l) MiB/s"
fi
t0=$(date +%s.%N)
stream | tee >(b3sum --no-names >"$TEST_TMP/sent.b3") |
  curl -fsS "${sig[@]}" -T - -o /dev/null "$PROXY_URL/big/object.bin"
t1=$(date +%s.%N)
curl -fsS "${sig[@]}" "$PROXY_URL/big/object.bin" | b3sum --no-names >"$TEST_TMP/got.b3"
t2=$(date +%s.%N)
sleep 0.2 # tee's b3sum finishes asynchronously
assert_eq "$(cat "$TEST_TMP/got.b3")" "$(cat "$TEST_TMP/sent.b3")" "BLAKE3 of the round trip"
assert_eq "$(stat -c %s "$TEST_TMP/www/big/object.bin")" $((size_mib * 1024 * 1024)) "stored size"

# A slow reader for 3 s (30 MiB/s) that then hangs up mid-body.
curl -sS "${sig[@]}" --limit-rate 30M --max-time 3 -o /dev/null "$PROXY_URL/big/object.bin" || true
sleep 0.5
assert_eq "$(curl -fsS "$PROXY_URL/_roar/health")" ok "health after a client hung up"
assert_eq "$(metric roar_proxy_inflight_requests)" 1 "in-flight requests (just this scrape)"
if ((size_mib >= 256)); then # smaller objects finish before the client hangs up
  ((  $(metric roar_proxy_client_aborts_total) >= 1 )) || fail "client abort not counted"
fi

peak=$(peak_rss_kib "$PROXY_PID")
put_mibs=$(echo "$size_mib / ($t1 - $t0)" | bc -l)
get_mibs=$(echo "$size_mib / ($t2 - $t1)" | bc -l)

# Added latency: 200 small GETs on one keep-alive connection, direct vs proxied.
echo hello >"$TEST_TMP/www/big/small.txt"
latency=$(python3 - "$PROXY_URL" "http://127.0.0.1:$port" <<'PY'
import sys, time, boto3
def mean_ms(url):
    s3 = boto3.client("s3", endpoint_url=url)
    s3.get_object(Bucket="big", Key="small.txt")["Body"].read()
    t = time.perf_counter()
    for _ in range(200):
        s3.get_object(Bucket="big", Key="small.txt")["Body"].read()
    return (time.perf_counter() - t) / 200 * 1000
proxied, direct = mean_ms(sys.argv[1]), mean_ms(sys.argv[2])
print(f"{proxied - direct:.2f} ms per GET ({proxied:.2f} proxied vs {direct:.2f} direct)")
PY
)
printf 'roar-proxy large stream: %d MiB, PUT %.0f MiB/s, GET %.0f MiB/s, peak RSS %d KiB, added latency %s\n' \
  "$size_mib" "$put_mibs" "$get_mibs" "$peak" "$latency"
if [[ ${ROAR_SANITIZER:-} == asan ]]; then
  # ASan's quarantine keeps freed blocks (256 MiB by default): the bound
  # is the plain build's check.
  echo "peak RSS not bounded in an ASan build (the plain build checks $rss_limit_kib KiB)"
else
  ((peak < rss_limit_kib)) || fail "peak RSS $peak KiB exceeds $rss_limit_kib KiB"
fi
stop_proxy
