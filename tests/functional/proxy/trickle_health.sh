# No local client can wedge the proxy (issue 10 item 6): 300 plain TCP
# connections that trickle one header byte every 2 s leave /_roar/health
# and S3 requests answering at once, and each trickler is closed once its
# request head has taken longer than the header timeout (10 s).
source "$(dirname "$0")/lib_s3.sh"
need nginx
port=$(free_port)
mkdir -p "$TEST_TMP/www/b" "$TEST_TMP/nginx"
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
  server { listen 127.0.0.1:$port; location / { root $TEST_TMP/www; } }
}
CONF
bg_start nginx nginx -e "$TEST_TMP/nginx/error.log" -c "$TEST_TMP/nginx.conf"
wait_port "$port" 10 || fail "nginx did not start"
echo hello >"$TEST_TMP/www/b/k"
export AWS_ACCESS_KEY_ID=AKIAROARTRICKLE AWS_SECRET_ACCESS_KEY=trickle-secret
start_proxy "http://127.0.0.1:$port"

# 300 connections, one byte of "GET / HTTP/1.1..." every 2 s each, until
# the proxy closes them; the tricklers report how each ended.
python3 - "$PROXY_PORT" "$TEST_TMP/connected" >"$TEST_TMP/tricklers.txt" 2>&1 <<'PY' &
import asyncio, sys
port, ready = int(sys.argv[1]), sys.argv[2]
head = b"GET /b/k HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"x" * 200
async def trickle(conn):
    r, w = conn
    for b in head:
        w.write(bytes([b]))
        try:
            await w.drain()
            data = await asyncio.wait_for(r.read(4096), 2.0)
        except asyncio.TimeoutError:
            continue
        except ConnectionError:
            return "reset"
        return "closed " + (data.split(b" ")[1].decode() if data.startswith(b"HTTP/1.1 ") else "silently")
    return "still open"
async def main():
    conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(300)]
    open(ready, "w").close()
    res = await asyncio.gather(*(trickle(c) for c in conns))
    for r in sorted(set(res)):
        print(res.count(r), r)
asyncio.run(main())
PY
tricklers=$!
on_exit "kill $tricklers 2>/dev/null"
for ((i = 0; i < 300; i++)); do
  [[ -f $TEST_TMP/connected ]] && break
  sleep 0.05
done
[[ -f $TEST_TMP/connected ]] || fail "the tricklers did not connect: $(cat "$TEST_TMP/tricklers.txt")"
sleep 2 # a byte or two each

check "health answers at once while 300 connections trickle"
for i in 1 2 3 4; do
  t0=$(date +%s%N)
  assert_eq "$(curl -fsS --max-time 2 "$PROXY_URL/_roar/health")" ok "health #$i"
  ms=$((($(date +%s%N) - t0) / 1000000))
  echo "health #$i answered in $ms ms" >&2
  sleep 1
done

check "an S3 request is served while they trickle"
got=$(curl -fsS --max-time 5 --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
  -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$PROXY_URL/b/k")
assert_eq "$got" hello "GET through the proxy"
assert_eq "$(metric roar_proxy_connections_waiting)" 0 "connections waiting for a slot"

check "every trickler is closed after the header timeout with a RequestTimeout answer"
wait "$tricklers" || fail "the trickling client failed: $(cat "$TEST_TMP/tricklers.txt")"
assert_eq "$(cat "$TEST_TMP/tricklers.txt")" "300 closed 400" "how the tricklers ended"
assert_eq "$(metric roar_proxy_header_timeouts_total)" 300 "header timeouts"
assert_eq "$(curl -fsS "$PROXY_URL/_roar/health")" ok "health afterwards"
stop_proxy
