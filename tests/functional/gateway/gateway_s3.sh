# roar-proxy --gateway FILE end to end, with real clients (boto3, aws CLI)
# against two moto backends on loopback (A checks SigV4, B does not):
# object calls, ranged GETs, listings, first-fit placement until a quota is
# full, 507 with nothing written, multipart (boto3 and `aws s3 cp`), wrong
# and unknown keys refused with S3's errors, health/ready/metrics, the
# admin API and its CLI (tenants, keys, revocation, tenant buckets in
# hashed namespaces), deletion releasing quota, replication, and
# ListBuckets' creation dates (a configured bucket's first start, kept
# across restarts; a tenant bucket's CreateBucket).
source "$(dirname "$0")/lib_gateway.sh"
need aws curl jq cmp
start_backend_a
start_backend_b

new_gateway_url
cat >"$TEST_TMP/gw.toml" <<EOF
$(gateway_toml_head "$GW_PORT" "sqlite://$TEST_TMP/gw.db")
[replication]
poll_interval = "200ms"
[tenant_defaults]
backends = ["b"]
$(backends_toml 1048576 67108864 "")
$(data_bucket_toml)

[[bucket]]
name = "small"
backends = ["a"]
key_prefix = "small/"

[[bucket]]
name = "twice"
backends = ["a", "b"]
replicas = 2
key_prefix = "twice/"
EOF
GW_FIRST_START=$(date +%s)
start_gateway gateway "$TEST_TMP/gw.toml"

check "health answers and ready reports metadata and both backends"
assert_eq "$(curl -sf "$GW_URL/_roar/health")" ok "health"
ready=$(curl -sf "$GW_URL/_roar/ready")
assert_contains "$ready" "backend a: answers" "ready lists backend a"
assert_contains "$ready" "backend b: answers" "ready lists backend b"

check "boto3 put/get/head/list/delete through the gateway"
head -c 300000 /dev/urandom >"$TEST_TMP/obj1.bin"
static "$TEST_TMP/obj1.bin" <<PY
$PYHEAD
body = open(sys.argv[1], "rb").read()
put = gw.put_object(Bucket="data", Key="dir/obj 1.bin", Body=body, ContentType="application/x-test",
                    Metadata={"origin": "test"})
got = gw.get_object(Bucket="data", Key="dir/obj 1.bin")
assert got["Body"].read() == body, "GET body differs"
assert got["ETag"] == put["ETag"], (got["ETag"], put["ETag"])
assert got["ContentType"] == "application/x-test", got["ContentType"]
assert got["Metadata"] == {"origin": "test"}, got["Metadata"]
head = gw.head_object(Bucket="data", Key="dir/obj 1.bin")
assert head["ContentLength"] == len(body), head
assert head["Metadata"] == {"origin": "test"}, head["Metadata"]  # kept in the metadata at PUT
rng = gw.get_object(Bucket="data", Key="dir/obj 1.bin", Range="bytes=1000-1999")
assert rng["ResponseMetadata"]["HTTPStatusCode"] == 206
assert rng["ContentRange"] == "bytes 1000-1999/%d" % len(body), rng["ContentRange"]
assert rng["Body"].read() == body[1000:2000], "range body differs"
tail = gw.get_object(Bucket="data", Key="dir/obj 1.bin", Range="bytes=-10")["Body"].read()
assert tail == body[-10:], "suffix range differs"
assert code(lambda: gw.get_object(Bucket="data", Key="dir/obj 1.bin", Range="bytes=400000-")) == "416 InvalidRange"
gw.put_object(Bucket="data", Key="dir/x/one", Body=b"1")
gw.put_object(Bucket="data", Key="top", Body=b"2")
l = gw.list_objects_v2(Bucket="data", Delimiter="/")
assert [o["Key"] for o in l.get("Contents", [])] == ["top"], l
assert [p["Prefix"] for p in l["CommonPrefixes"]] == ["dir/"], l
l = gw.list_objects_v2(Bucket="data", Prefix="dir/", MaxKeys=1)
assert l["IsTruncated"] and len(l["Contents"]) == 1, l
l2 = gw.list_objects_v2(Bucket="data", Prefix="dir/", ContinuationToken=l["NextContinuationToken"])
assert [o["Key"] for o in l2["Contents"]] == ["dir/x/one"], l2
gw.delete_object(Bucket="data", Key="top")
assert code(lambda: gw.get_object(Bucket="data", Key="top")) == "404 NoSuchKey"
assert code(lambda: gw.head_object(Bucket="data", Key="top")) == "404 404"
assert code(lambda: gw.get_object(Bucket="nope", Key="x")) == "404 NoSuchBucket"
assert [x["Name"] for x in gw.list_buckets()["Buckets"]] == ["data", "small", "twice"]
PY

check "ListBuckets dates a configured bucket from the gateway's first start with it, as kept in the metadata"
static "$GW_FIRST_START" "$TEST_TMP/gw.db" <<PY >"$TEST_TMP/created.txt"
$PYHEAD
import sqlite3
started = int(sys.argv[1])
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[2], uri=True)
for x in gw.list_buckets()["Buckets"]:
    created = x["CreationDate"].timestamp()
    assert started - 1 <= created <= started + 60, (x["Name"], x["CreationDate"], started)
    kept = db.execute("SELECT value FROM gw_settings WHERE name = ?", ("bucket_first_seen.default/" + x["Name"],)).fetchone()
    assert kept and int(kept[0]) // 1000 == int(created), (x["Name"], kept, created)
    print(x["Name"], x["CreationDate"].isoformat())
PY
assert_eq "$(wc -l <"$TEST_TMP/created.txt")" 3 "configured buckets listed with their first-seen time"

check "an empty object and a 1 KiB one read back whole, again and again on kept-alive connections"
static <<PY
$PYHEAD
small = os.urandom(1024)
empty_put = gw.put_object(Bucket="data", Key="tiny/empty", Body=b"")
small_put = gw.put_object(Bucket="data", Key="tiny/1k", Body=small)
for _ in range(10):
    e = gw.get_object(Bucket="data", Key="tiny/empty")
    assert e["ContentLength"] == 0 and e["ETag"] == empty_put["ETag"], e
    assert e["Body"].read() == b"", "the empty object has a body"
    s = gw.get_object(Bucket="data", Key="tiny/1k")
    assert s["ContentLength"] == 1024 and s["ETag"] == small_put["ETag"], s
    assert s["Body"].read() == small, "the 1 KiB body differs"
gw.delete_object(Bucket="data", Key="tiny/empty")
gw.delete_object(Bucket="data", Key="tiny/1k")
PY

check "first-fit placement: backend a until its quota is full, then b"
head -c 600000 /dev/urandom >"$TEST_TMP/p1.bin"
head -c 600000 /dev/urandom >"$TEST_TMP/p2.bin"
static "$TEST_TMP/p1.bin" "$TEST_TMP/p2.bin" <<PY
$PYHEAD
gw.put_object(Bucket="data", Key="p1", Body=open(sys.argv[1], "rb").read())
gw.put_object(Bucket="data", Key="p2", Body=open(sys.argv[2], "rb").read())
ka, kb = keys(a, "store-a", "data/p"), keys(b, "store-b", "data/p")
assert len(ka) == 1 and ka[0].startswith("data/p1~"), (ka, kb)
assert len(kb) == 1 and kb[0].startswith("data/p2~"), (ka, kb)
assert gw.get_object(Bucket="data", Key="p2")["Body"].read() == open(sys.argv[2], "rb").read()
PY

# jobs_settled: waits until no background job is queued or running.
jobs_settled() {
  local _
  for _ in $(seq 100); do
    [[ $("$PROXY" admin jobs | jq '[.jobs[] | select(.state != "failed") | .count] | add // 0') == 0 ]] && return 0
    sleep 0.2
  done
  fail "background jobs did not settle: $("$PROXY" admin jobs)"
}

check "quota exceeded: 507 InsufficientStorage and nothing written"
jobs_settled
before=$("$PROXY" admin backends status)
static "$TEST_TMP/p2.bin" <<PY
$PYHEAD
r = code(lambda: gw.put_object(Bucket="small", Key="toolarge", Body=open(sys.argv[1], "rb").read()))
assert r == "507 InsufficientStorage", r
assert keys(a, "store-a", "small/") == [], keys(a, "store-a", "small/")
assert code(lambda: gw.head_object(Bucket="small", Key="toolarge")) == "404 404"
PY
after=$("$PROXY" admin backends status)
assert_eq "$(jq -c '[.backends[] | {name, used_bytes, reserved_bytes}]' <<<"$after")" \
  "$(jq -c '[.backends[] | {name, used_bytes, reserved_bytes}]' <<<"$before")" "quota counters unchanged by the refused PUT"

check "a wrong secret is refused with SignatureDoesNotMatch, an unknown key with InvalidAccessKeyId"
gw_py AKIAGATEWAYTEST wrong-secret <<PY
$PYHEAD
r = code(lambda: gw.put_object(Bucket="data", Key="evil", Body=b"x"))
assert r == "403 SignatureDoesNotMatch", r
PY
gw_py AKIANOSUCHKEY whatever <<PY
$PYHEAD
r = code(lambda: gw.list_objects_v2(Bucket="data"))
assert r == "403 InvalidAccessKeyId", r
PY
static <<PY
$PYHEAD
assert code(lambda: gw.head_object(Bucket="data", Key="evil")) == "404 404"
PY
status=$(curl -s -o /dev/null -w '%{http_code}' "$GW_URL/data/p1")
assert_eq "$status" 403 "an anonymous GET is refused"

check "boto3 multipart upload (3 parts) streams through to one backend and reads back"
head -c 12000000 /dev/urandom >"$TEST_TMP/mp.bin"
static "$TEST_TMP/mp.bin" <<PY
$PYHEAD
from boto3.s3.transfer import TransferConfig
tc = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
gw.upload_file(sys.argv[1], "data", "mp/big.bin", Config=tc)
head = gw.head_object(Bucket="data", Key="mp/big.bin")
assert head["ContentLength"] == 12000000, head
assert head["ETag"].endswith('-3"'), head["ETag"]
gw.download_file("data", "mp/big.bin", sys.argv[1] + ".back")
# An aborted upload leaves nothing behind.
up = gw.create_multipart_upload(Bucket="data", Key="mp/aborted")
gw.upload_part(Bucket="data", Key="mp/aborted", UploadId=up["UploadId"], PartNumber=1, Body=b"x" * 100)
parts = gw.list_parts(Bucket="data", Key="mp/aborted", UploadId=up["UploadId"])["Parts"]
assert [p["PartNumber"] for p in parts] == [1], parts
assert [u["Key"] for u in gw.list_multipart_uploads(Bucket="data").get("Uploads", [])] == ["mp/aborted"]
gw.abort_multipart_upload(Bucket="data", Key="mp/aborted", UploadId=up["UploadId"])
assert gw.list_multipart_uploads(Bucket="data").get("Uploads", []) == []
assert code(lambda: gw.head_object(Bucket="data", Key="mp/aborted")) == "404 404"
PY
cmp "$TEST_TMP/mp.bin" "$TEST_TMP/mp.bin.back" || fail "multipart object differs"

check "aws s3 cp of a multipart-sized file up and down"
head -c 20000000 /dev/urandom >"$TEST_TMP/cli.bin"
export AWS_ACCESS_KEY_ID=AKIAGATEWAYTEST AWS_SECRET_ACCESS_KEY=$GW_SECRET
aws --endpoint-url "$GW_URL" s3 cp "$TEST_TMP/cli.bin" s3://data/cli/cli.bin >/dev/null
aws --endpoint-url "$GW_URL" s3 cp s3://data/cli/cli.bin "$TEST_TMP/cli.back" >/dev/null
cmp "$TEST_TMP/cli.bin" "$TEST_TMP/cli.back" || fail "aws s3 cp round trip differs"
assert_contains "$(aws --endpoint-url "$GW_URL" s3 ls s3://data/cli/)" "20000000 cli.bin" "aws s3 ls"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY

check "replicas = 2: the worker copies the object to the second backend"
static <<PY
$PYHEAD
import time
gw.put_object(Bucket="twice", Key="r", Body=b"replicated" * 100)
for _ in range(100):
    if keys(a, "store-a", "twice/") and keys(b, "store-b", "twice/"):
        break
    time.sleep(0.2)
assert len(keys(a, "store-a", "twice/")) == 1 and len(keys(b, "store-b", "twice/")) == 1
PY

check "a copy changed behind the gateway is not served: the read fails, or uses the other copy"
static <<PY
$PYHEAD
before = set(keys(a, "store-a", "small/"))
gw.put_object(Bucket="small", Key="changed", Body=b"recorded" * 10)
[copy] = set(keys(a, "store-a", "small/")) - before
a.put_object(Bucket="store-a", Key=copy, Body=b"rewritten elsewhere")
assert code(lambda: gw.get_object(Bucket="small", Key="changed")["Body"].read()) == "503 ServiceUnavailable"
assert code(lambda: gw.get_object(Bucket="small", Key="changed", Range="bytes=0-3")["Body"].read()) \
    == "503 ServiceUnavailable"
[twice] = keys(a, "store-a", "twice/")
a.put_object(Bucket="store-a", Key=twice, Body=b"short")
for _ in range(4):
    assert gw.get_object(Bucket="twice", Key="r")["Body"].read() == b"replicated" * 100
a.put_object(Bucket="store-a", Key=twice, Body=b"replicated" * 100)
PY
assert_contains "$(cat "$TEST_TMP/gateway.log")" "the copy holds 19 bytes where the record has 80" \
  "the changed copy is named in the log"

check "a deleted object's copy is removed from its backend and its quota released"
static <<PY
$PYHEAD
import time
gw.delete_object(Bucket="data", Key="p1")
for _ in range(100):
    if not keys(a, "store-a", "data/p1"):
        break
    time.sleep(0.2)
assert keys(a, "store-a", "data/p1") == [], keys(a, "store-a", "data/p1")
PY
used_a=$("$PROXY" admin backends status | jq '.backends[] | select(.name == "a") | .used_bytes')
(( used_a < 600000 )) || fail "backend a still counts $used_a bytes after the delete"

check "metrics: requests by operation and status, bytes, quota per backend"
metrics=$(curl -sf "$GW_URL/_roar/metrics")
assert_contains "$metrics" 'roar_gateway_requests_total{op="PutObject",status="200"}' "PutObject counted"
assert_contains "$metrics" 'roar_gateway_requests_total{op="PutObject",status="507"}' "the 507 counted"
assert_contains "$metrics" 'roar_gateway_backend_quota_bytes{backend="a"} 1048576' "quota of a"
assert_contains "$metrics" 'roar_gateway_backend_available_bytes{backend="a"}' "available bytes of a"
assert_contains "$metrics" 'roar_gateway_bytes_in_total' "bytes in"

check "the admin API refuses calls without the token"
status=$(curl -s -o /dev/null -w '%{http_code}' "$GW_URL/_roar/admin/tenants")
assert_eq "$status" 401 "admin without a token"
ROAR_GATEWAY_ADMIN_TOKEN=wrong-token-0123456789 expect_failure "$PROXY" admin tenants list

check "admin CLI: a tenant and its key; the key works in its own hashed namespace"
"$PROXY" admin tenants create team-x >/dev/null
key_json=$("$PROXY" admin keys create team-x)
TX_KEY=$(jq -r .access_key <<<"$key_json")
TX_SECRET=$(jq -r .secret_key <<<"$key_json")
assert_eq "$(jq -r '.tenants[].name' <<<"$("$PROXY" admin tenants list)" | grep -c team-x)" 1 "tenant listed"
gw_py "$TX_KEY" "$TX_SECRET" <<PY
$PYHEAD
import time
gw.create_bucket(Bucket="data")   # the same name as the static tenant's bucket: a different bucket
created = gw.list_buckets()["Buckets"][0]["CreationDate"].timestamp()
assert abs(created - time.time()) < 60, "a tenant's bucket is dated from its CreateBucket: %s" % created
gw.put_object(Bucket="data", Key="mine", Body=b"team-x")
assert gw.get_object(Bucket="data", Key="mine")["Body"].read() == b"team-x"
assert code(lambda: gw.get_object(Bucket="data", Key="p2")) == "404 NoSuchKey"
assert [x["Name"] for x in gw.list_buckets()["Buckets"]] == ["data"]
hashed = [x["Name"] for x in b.list_buckets()["Buckets"] if x["Name"].startswith("roar-data-")]
assert len(hashed) == 1, hashed
assert keys(b, hashed[0], "mine~") != [], keys(b, hashed[0], "")
PY
if grep -rq "$TX_SECRET" "$TEST_TMP/gw.db"* "$TEST_TMP/gateway.log"; then
  fail "the tenant secret appears in clear in the metadata or the log"
fi

check "a revoked key is refused with InvalidAccessKeyId"
"$PROXY" admin keys revoke "$TX_KEY" >/dev/null
gw_py "$TX_KEY" "$TX_SECRET" <<PY
$PYHEAD
r = code(lambda: gw.list_objects_v2(Bucket="data"))
assert r == "403 InvalidAccessKeyId", r
PY

# slot_freed PORT WHOSE: a new connection's health check on PORT answers
# 200 within 10 s, i.e. WHOSE slot was released (just after the close the
# client sees, so a first probe may still find the slot taken).
slot_freed() {
  python3 - "$1" "$2" <<'PY'
import socket, sys, time
for _ in range(50):
    probe = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    probe.sendall(b"GET /_roar/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    probe.settimeout(10)
    if probe.recv(4096).decode().startswith("HTTP/1.1 200"):
        break
    time.sleep(0.2)
else:
    raise SystemExit(sys.argv[2] + " slot was not freed")
PY
}

LIM_PORT=$(free_port)
sed -e "s/^listen = .*/listen = \"127.0.0.1:$LIM_PORT\"/" -e "s|gw.db|gw-limit.db|" "$TEST_TMP/gw.toml" >"$TEST_TMP/gw-limit.toml"
"$PROXY" --gateway "$TEST_TMP/gw-limit.toml" --gateway-connections 1 --gateway-open-connections 3 \
  --log-file "$TEST_TMP/gateway-limit.log" &
LIM_PID=$!
on_exit "kill $LIM_PID 2>/dev/null; wait $LIM_PID 2>/dev/null"
wait_port "$LIM_PORT" 30 || fail "the second gateway did not start"

# ASK: Python defining ask(port, conn=None): a health check on `conn` (else a
# new connection to `port`), returning the connection and the answer's text.
ASK='
import socket
def ask(port, conn=None):
    conn = conn or socket.create_connection(("127.0.0.1", port))
    conn.sendall(b"GET /_roar/health HTTP/1.1\r\nHost: x\r\n\r\n")
    conn.settimeout(10)
    return conn, conn.recv(4096).decode()
'

check "idle connections hold no request slot: with --gateway-connections 1, two sit idle and a third client is served"
python3 - "$LIM_PORT" <<PY
$ASK
import sys, time
port = int(sys.argv[1])
idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]  # connected, sending nothing
assert ask(port, idle[0])[1].startswith("HTTP/1.1 200")  # one request, then idle on keep-alive
time.sleep(0.3)
third, answer = ask(port)
assert answer.startswith("HTTP/1.1 200"), answer
for s in idle + [third]:
    s.close()
PY

check "connections beyond --gateway-open-connections are answered 503 SlowDown at once"
python3 - "$LIM_PORT" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
time.sleep(0.3)
extra = socket.create_connection(("127.0.0.1", port))
extra.settimeout(10)
answer = extra.recv(4096).decode()
assert answer.startswith("HTTP/1.1 503"), answer
assert "<Code>SlowDown</Code>" in answer, answer
for s in held:
    s.close()
PY
slot_freed "$LIM_PORT" "the closed connections'"

check "a request beyond --gateway-connections is answered 503 SlowDown, not queued"
# The only request thread is held by a signed upload whose body stops
# after 10 of its 1000 bytes.
GW_URL=http://127.0.0.1:$LIM_PORT static <<PY
$PYHEAD
$ASK
import time, urllib.parse
port = urllib.parse.urlsplit(os.environ["GW_URL"]).port
url = gw.generate_presigned_url("put_object", Params={"Bucket": "data", "Key": "slow-upload"}, ExpiresIn=300)
target = url.split(str(port), 1)[1]
slow = socket.create_connection(("127.0.0.1", port))
slow.sendall(f"PUT {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 1000\r\n\r\n".encode() + b"x" * 10)
time.sleep(0.5)
answer = ask(port)[1]
assert answer.startswith("HTTP/1.1 503"), answer
assert "<Code>SlowDown</Code>" in answer, answer
slow.close()
PY
slot_freed "$LIM_PORT" "the slow upload's"
curl -s "http://127.0.0.1:$LIM_PORT/_roar/metrics" | grep -Eq '^roar_gateway_requests_refused_total [1-9]' ||
  fail "the refused request is not counted in roar_gateway_requests_refused_total"

check "a client dripping a request head is cut off after the head timeout"
python3 - "$LIM_PORT" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
drip = socket.create_connection(("127.0.0.1", port))
drip.sendall(b"GET /_roar/health HTTP/1.1\r\nHost: x\r\n")
drip.settimeout(1)
closed = False
for i in range(60):                   # a header line a second, never the end of the head
    try:
        drip.sendall(b"x-drip-%d: y\r\n" % i)
        if drip.recv(4096) == b"":
            closed = True
            break
    except socket.timeout:
        continue
    except OSError:
        closed = True
        break
assert closed, "the gateway kept a connection whose head never ended"
PY
slot_freed "$LIM_PORT" "the dripping client's"
kill "$LIM_PID"

POOL_PORT=$(free_port)
sed -e "s/^listen = .*/listen = \"127.0.0.1:$POOL_PORT\"/" -e "s|gw.db|gw-pool.db|" "$TEST_TMP/gw.toml" >"$TEST_TMP/gw-pool.toml"
"$PROXY" --gateway "$TEST_TMP/gw-pool.toml" --gateway-connections 6 --gateway-thread-idle 1 \
  --log-file "$TEST_TMP/gateway-pool.log" &
POOL_PID=$!
on_exit "kill $POOL_PID 2>/dev/null; wait $POOL_PID 2>/dev/null"
wait_port "$POOL_PORT" 30 || fail "the pool gateway did not start"

check "the request threads grow with the requests held at once and shrink back to two when idle"
GW_URL=http://127.0.0.1:$POOL_PORT static <<PY
$PYHEAD
import socket, time, urllib.parse, urllib.request
port = urllib.parse.urlsplit(os.environ["GW_URL"]).port
def threads():
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/_roar/metrics", timeout=10).read().decode()
    return int(next(l.split()[1] for l in text.splitlines() if l.startswith("roar_gateway_request_threads ")))
held = []
for i in range(5):  # uploads whose bodies stop after 10 of 1000 bytes: each holds a thread
    url = gw.generate_presigned_url("put_object", Params={"Bucket": "data", "Key": f"held-{i}"}, ExpiresIn=300)
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"PUT {url.split(str(port), 1)[1]} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
              "Content-Length: 1000\r\n\r\n".encode() + b"x" * 10)
    held.append(s)
time.sleep(0.5)
grown = threads()
assert grown >= 6, f"{grown} request threads with five requests held and one served"
for s in held:
    s.close()
for _ in range(200):  # a thread idle for 1 s ends while another waits
    left = threads()
    if left == 2:
        break
    time.sleep(0.1)
assert left == 2, f"{left} request threads still there 20 s after the held requests ended (from {grown})"
PY
kill "$POOL_PID"

check "a read fails over to the replica when the first backend is down"
stop_backend A
static <<PY
$PYHEAD
assert gw.get_object(Bucket="twice", Key="r")["Body"].read() == b"replicated" * 100
PY
assert_contains "$(curl -s "$GW_URL/_roar/ready")" "backend a: down" "ready names the backend that is down"

check "SIGTERM stops the gateway cleanly"
kill -TERM "$GW_PID"
wait "$GW_PID" || fail "the gateway exited with $?"
assert_contains "$(cat "$TEST_TMP/gateway.log")" "stopped" "shutdown logged"

check "a restarted gateway keeps the configured buckets' first-seen time"
sleep 1 # a later start whose own time would show in whole seconds
start_gateway gateway-again "$TEST_TMP/gw.toml"
static <<PY >"$TEST_TMP/created-again.txt"
$PYHEAD
for x in gw.list_buckets()["Buckets"]:
    print(x["Name"], x["CreationDate"].isoformat())
PY
assert_eq "$(cat "$TEST_TMP/created-again.txt")" "$(cat "$TEST_TMP/created.txt")" "CreationDate after the restart"
kill -TERM "$GW_PID"
wait "$GW_PID" || fail "the restarted gateway exited with $?"
echo "PASS: $TEST_NAME"
