# The gateway's structured logs and W3C trace propagation, with a
# recording forwarder between the gateway and its backend (moto without
# auth) that writes down the traceparent of every backend request: a
# client's valid traceparent reaches the backend as a child span of the
# same trace, a missing or invalid one is replaced by a new trace, every
# backend call (object calls, multipart, the worker's deletions, the ready
# probe) carries one, and each request's JSON log record ties its request
# id, operation, bucket/key, status, bytes, duration, backend and trace
# together. No secret and no Authorization or presigned signature ever
# reaches the log.
source "$(dirname "$0")/lib_gateway.sh"
need curl jq
start_backend_b

# The forwarder: every request goes on to moto unchanged; one JSON line
# per request (method, path, traceparent or null) in $TEST_TMP/seen.jsonl.
cat >"$TEST_TMP/recorder.py" <<'PY'
import http.client, http.server, json, sys, threading, urllib.parse
port, target, out = int(sys.argv[1]), urllib.parse.urlsplit(sys.argv[2]), sys.argv[3]
lock = threading.Lock()
class Forward(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
    def relay(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with lock, open(out, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path,
                                "traceparent": self.headers.get("traceparent")}) + "\n")
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "expect")}
        conn.request(self.command, self.path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length", "date", "server"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        conn.close()
    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = relay
http.server.ThreadingHTTPServer(("127.0.0.1", port), Forward).serve_forever()
PY
REC_PORT=$(free_port)
_gw_bg recorder python3 "$TEST_TMP/recorder.py" "$REC_PORT" "$GW_B_URL" "$TEST_TMP/seen.jsonl"
wait_port "$REC_PORT" 30 || fail "the recording forwarder did not start"

new_gateway_url
cat >"$TEST_TMP/gw.toml" <<EOF
log_format = "json"
$(gateway_toml_head "$GW_PORT" "sqlite://$TEST_TMP/gw.db")
[replication]
poll_interval = "200ms"
[[backend]]
name = "b"
endpoint = "http://127.0.0.1:$REC_PORT"
bucket = "store-b"
access_key_env = "GW_B_KEY"
secret_key_env = "GW_B_SECRET"

[[bucket]]
name = "data"
backends = ["b"]
key_prefix = "data/"
EOF
start_gateway gateway "$TEST_TMP/gw.toml"
LOG=$TEST_TMP/gateway.log

T1=4bf92f3577b34da6a3ce929d0e0e4736
S1=00f067aa0ba902b7
head -c 6000000 /dev/urandom >"$TEST_TMP/big.bin"
static "$T1" "$S1" "$TEST_TMP" <<PY >"$TEST_TMP/client.json"
$PYHEAD
import json, boto3.s3.transfer
t1, s1, tmp = sys.argv[1], sys.argv[2], sys.argv[3]
state = {"tp": None, "auth": []}
def add_traceparent(request, **kw):
    if state["tp"] is not None:
        request.headers["traceparent"] = state["tp"]
def capture_auth(request, **kw):
    state["auth"].append(request.headers.get("Authorization").decode() if isinstance(request.headers.get("Authorization"), bytes) else request.headers.get("Authorization"))
gw.meta.events.register("before-sign.s3", add_traceparent)
gw.meta.events.register("before-send.s3", capture_auth)
ids = {}
state["tp"] = "00-%s-%s-01" % (t1, s1)
ids["put1"] = gw.put_object(Bucket="data", Key="k1", Body=b"x" * 1000)["ResponseMetadata"]["RequestId"]
ids["get1"] = gw.get_object(Bucket="data", Key="k1")["ResponseMetadata"]["RequestId"]
state["tp"] = None
ids["put2"] = gw.put_object(Bucket="data", Key="k2", Body=b"y" * 10)["ResponseMetadata"]["RequestId"]
state["tp"] = "00-%s-%s-01" % (t1.upper(), s1)  # upper case: invalid
ids["put3"] = gw.put_object(Bucket="data", Key="k3", Body=b"z")["ResponseMetadata"]["RequestId"]
state["tp"] = "01-%s-%s-01" % (t1, s1)  # another version: refused too
ids["put4"] = gw.put_object(Bucket="data", Key="k4", Body=b"w")["ResponseMetadata"]["RequestId"]
state["tp"] = None
cfg5 = boto3.s3.transfer.TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
gw.upload_file(tmp + "/big.bin", "data", "big.bin", Config=cfg5)
gw.delete_object(Bucket="data", Key="k2")
v4 = boto3.client("s3", endpoint_url=os.environ["GW_URL"], region_name="us-east-1",
                  config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
                  aws_access_key_id=os.environ["GW_KEY"], aws_secret_access_key=os.environ["GW_SEC"])
url = v4.generate_presigned_url("get_object", Params={"Bucket": "data", "Key": "k1"}, ExpiresIn=300)
print(json.dumps({"ids": ids, "auth": state["auth"], "presigned": url}))
PY
presigned=$(jq -r .presigned "$TEST_TMP/client.json")
curl -sf -o /dev/null "$presigned" || fail "the presigned GET failed"
curl -sf -o /dev/null "$GW_URL/_roar/ready" || fail "not ready"
curl -sf -o /dev/null -H "Authorization: Bearer $ROAR_GATEWAY_ADMIN_TOKEN" "$GW_URL/_roar/admin/backends"
# The worker deletes k2's copy.
for _ in $(seq 50); do
  jq -e 'select(.method == "DELETE")' "$TEST_TMP/seen.jsonl" >/dev/null 2>&1 && break
  sleep 0.2
done
# record ID: the log record of the request with that x-amz-request-id.
record() { jq -c --arg id "$(jq -r ".ids.$1" "$TEST_TMP/client.json")" 'select(.request_id == $id)' "$LOG"; }
# seen METHOD KEY: the traceparents the backend saw for METHOD on KEY (its backend key starts data/KEY~).
seen() { jq -r --arg m "$1" --arg k "/store-b/data/$2~" 'select(.method == $m and (.path | startswith($k))) | .traceparent' "$TEST_TMP/seen.jsonl"; }

check "every log line is one JSON object with a time, a level and a message"
lines=$(wc -l <"$LOG")
assert_eq "$(jq -c 'select(has("time") and has("level") and has("msg"))' "$LOG" | wc -l)" "$lines" "records with time, level and msg"

check "a request's record carries its id, operation, bucket, key, status, bytes, duration and backend"
r=$(record put1)
assert_eq "$(jq -c '[.op, .bucket, .key, .status, .backend, .method]' <<<"$r")" '["PutObject","data","k1",200,"b","PUT"]' "put1 record"
assert_eq "$(jq '.bytes_in >= 1000 and .bytes_out > 0 and .duration_ms > 0' <<<"$r")" true "bytes and duration"
assert_eq "$(record get1 | jq -c '[.op, .status, .bytes_out >= 1000]')" '["GetObject",200,true]' "get1 record"

check "a client's valid traceparent reaches the backend as a child span of the same trace"
assert_eq "$(jq -c '[.trace_id, .parent_span_id]' <<<"$r")" "[\"$T1\",\"$S1\"]" "put1 trace in the log"
span=$(jq -r .span_id <<<"$r")
assert_ne "$span" "$S1" "the gateway's span is a new one"
assert_eq "$(seen PUT k1)" "00-$T1-$span-01" "what the backend saw for put1"
get_span=$(record get1 | jq -r .span_id)
assert_eq "$(seen GET k1 | head -1)" "00-$T1-$get_span-01" "what the backend saw for get1"

check "without a traceparent, or with an invalid one, the gateway starts a new trace"
for id in put2:k2 put3:k3 put4:k4; do
  r=$(record "${id%%:*}")
  trace=$(jq -r .trace_id <<<"$r")
  [[ $trace =~ ^[0-9a-f]{32}$ && $trace != "$T1" ]] || fail "${id%%:*}: trace id '$trace'"
  assert_eq "$(jq 'has("parent_span_id")' <<<"$r")" false "${id%%:*} has no client parent"
  assert_eq "$(seen PUT "${id#*:}")" "00-$trace-$(jq -r .span_id <<<"$r")-00" "what the backend saw for ${id%%:*}"
done

check "every backend call carries a valid traceparent: object calls, multipart, deletions, the ready probe"
total=$(wc -l <"$TEST_TMP/seen.jsonl")
valid=$(jq -r '.traceparent // ""' "$TEST_TMP/seen.jsonl" | grep -cE '^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$' || true)
assert_eq "$valid" "$total" "backend requests with a valid traceparent"
assert_eq "$(jq -r 'select(.path | test("uploads|partNumber|uploadId")) | .method' "$TEST_TMP/seen.jsonl" | sort | uniq -c | awk '{print $2 $1}' | tr '\n' ' ')" \
  "POST2 PUT2 " "multipart calls seen (create, complete, two parts)"
[[ -n "$(jq -r 'select(.method == "DELETE") | .traceparent' "$TEST_TMP/seen.jsonl")" ]] || fail "no deletion reached the backend"

check "no secret and no signature reaches the log"
log=$(cat "$LOG")
for secret in "$GW_SECRET" "$GW_B_SECRET" "$ROAR_GATEWAY_ADMIN_TOKEN" "$GW_PASSPHRASE"; do
  assert_not_contains "$log" "$secret" "a secret in the log"
done
n_auth=$(jq '.auth | length' "$TEST_TMP/client.json")
[[ $n_auth -ge 6 ]] || fail "only $n_auth Authorization headers captured"
for i in $(seq 0 $((n_auth - 1))); do
  auth=$(jq -r ".auth[$i]" "$TEST_TMP/client.json")
  assert_not_contains "$log" "$auth" "an Authorization header value"
  assert_not_contains "$log" "${auth##*Signature=}" "a request signature"
done
sig=$(sed -n 's/.*X-Amz-Signature=\([0-9a-f]*\).*/\1/p' <<<"$presigned")
[[ ${#sig} == 64 ]] || fail "no signature in the presigned URL"
assert_not_contains "$log" "$sig" "the presigned URL's signature"
echo "gateway trace ok"
