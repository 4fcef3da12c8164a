# roar-proxy with ROAR_S3_TLS=1 (proxy.intercept_tls) terminates TLS on a
# redirected connection after its PROXY v2 header: the leaf it presents
# names the client's SNI (or, without SNI, the header's host) and verifies
# against the roar CA it created in ROAR_CA_DIR; a server name outside the
# job's routing rules gets no certificate; requests on the TLS connection
# are forwarded as on the plain path (keep-alive, a 20 MB response read
# slowly arrives intact), a small response is one TLS record (head and
# body sealed together), and a proxy without ROAR_S3_TLS refuses the
# TLS connection. Played with Python's ssl module as the job's client.
source "$(dirname "$0")/lib_s3.sh"
mkdir -p "$TEST_TMP/www/lineage"
head -c 20000000 /dev/urandom >"$TEST_TMP/www/lineage/big"
echo "small object" >"$TEST_TMP/www/lineage/small"
web_port=$(free_port)
(cd "$TEST_TMP/www" && exec python3 -m http.server "$web_port" --bind 127.0.0.1) >"$TEST_TMP/web.log" 2>&1 &
web_pid=$!
on_exit "kill $web_pid 2>/dev/null; wait $web_pid 2>/dev/null"
wait_port "$web_port" 30 || fail "the upstream web server did not start"
secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
export ROAR_S3_SECRET=$secret ROAR_S3_HOSTS="" ROAR_CA_DIR=$TEST_TMP/roar-ca
ROAR_S3_TLS=1 start_proxy "http://127.0.0.1:$web_port"

cat >"$TEST_TMP/client.py" <<'PY'
import hashlib, json, re, socket, ssl, struct, sys, time
port, secret, ca, sni, path = sys.argv[1:6]
SIG = b"\r\n\r\n\x00\r\nQUIT\n"
authority = b"s3.us-east-1.amazonaws.com"
tlvs = struct.pack("!BH", 0x02, len(authority)) + authority + struct.pack("!BH", 0xE0, 64) + secret.encode()
tlvs += struct.pack("!BHI", 0xE1, 4, 4242)
body = socket.inet_aton("127.0.0.1") + socket.inet_aton("127.0.0.9") + struct.pack("!HH", 40000, 443) + tlvs
raw = socket.create_connection(("127.0.0.1", int(port)), timeout=30)
raw.sendall(SIG + bytes([0x21, 0x11]) + struct.pack("!H", len(body)) + body)
ctx = ssl.create_default_context(cafile=ca)
out = {}
try:
    if sni == "-":
        ctx.check_hostname = False  # no SNI sent; the name is checked below
        tls = ctx.wrap_socket(raw)
    else:
        tls = ctx.wrap_socket(raw, server_hostname=sni)
except (ssl.SSLError, OSError) as e:
    print(json.dumps({"error": str(e)}))
    sys.exit(0)
out["san"] = [v for k, v in tls.getpeercert()["subjectAltName"]]
out["digests"] = []
for i in range(2):  # two requests on one connection
    tls.sendall(f"GET /lineage/{path} HTTP/1.1\r\nHost: {authority.decode()}\r\n\r\n".encode())
    data, n, hl, slept = bytearray(), None, 0, False
    while n is None or len(data) - hl < n:
        chunk = tls.recv(1 << 20)
        if not chunk:
            break
        data += chunk
        if n is None and b"\r\n\r\n" in data:
            hl = data.index(b"\r\n\r\n") + 4
            n = int(re.search(rb"(?i)content-length: *(\d+)", bytes(data[:hl])).group(1))
        if not slept and len(data) > 1000000:
            time.sleep(1)  # a slow reader: the proxy must hold back, not drop
            slept = True
    out["status"] = bytes(data[:12]).decode()
    out["digests"].append(hashlib.sha256(bytes(data[hl:])).hexdigest())
print(json.dumps(out))
PY
client() { python3 "$TEST_TMP/client.py" "$PROXY_PORT" "$secret" "$ROAR_CA_DIR/ca.pem" "$@"; }

check "the roar CA was created in ROAR_CA_DIR with an owner-only key"
assert_eq "$(stat -c %a "$ROAR_CA_DIR/ca-key.pem")" 600 "the CA key's mode"

check "the leaf names the SNI and verifies against the roar CA; two requests on one connection are forwarded"
r=$(client lineage.s3.us-east-1.amazonaws.com small)
assert_eq "$(jq -c .san <<<"$r")" '["lineage.s3.us-east-1.amazonaws.com"]' "subjectAltName"
assert_eq "$(jq -r .status <<<"$r")" "HTTP/1.1 200" "status"
want=$(sha256sum <"$TEST_TMP/www/lineage/small" | cut -d' ' -f1)
assert_eq "$(jq -r '.digests | unique | .[]' <<<"$r")" "$want" "both responses' bytes"

check "without SNI the leaf names the host from the PROXY header"
r=$(client - small)
assert_eq "$(jq -c .san <<<"$r")" '["s3.us-east-1.amazonaws.com"]' "subjectAltName without SNI"

check "a 20 MB response read slowly through TLS arrives intact"
r=$(client s3.us-east-1.amazonaws.com big)
want=$(sha256sum <"$TEST_TMP/www/lineage/big" | cut -d' ' -f1)
assert_eq "$(jq -r '.digests | unique | .[]' <<<"$r")" "$want" "the large response's bytes"

check "a small response leaves as one TLS record"
# The client runs TLS over memory buffers, so it sees the records the
# proxy wrote: a response head and a 13-byte body are one record.
cat >"$TEST_TMP/records.py" <<'PY'
import json, socket, ssl, struct, sys
port, secret, ca = sys.argv[1:4]
SIG = b"\r\n\r\n\x00\r\nQUIT\n"
authority = b"s3.us-east-1.amazonaws.com"
tlvs = struct.pack("!BH", 0x02, len(authority)) + authority + struct.pack("!BH", 0xE0, 64) + secret.encode()
body = socket.inet_aton("127.0.0.1") + socket.inet_aton("127.0.0.9") + struct.pack("!HH", 40000, 443) + tlvs
raw = socket.create_connection(("127.0.0.1", int(port)), timeout=30)
raw.sendall(SIG + bytes([0x21, 0x11]) + struct.pack("!H", len(body)) + body)
ctx = ssl.create_default_context(cafile=ca)
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(inc, out, server_hostname="s3.us-east-1.amazonaws.com")
while True:
    try:
        tls.do_handshake()
        break
    except ssl.SSLWantReadError:
        raw.sendall(out.read())
        inc.write(raw.recv(65536))
raw.sendall(out.read())
tls.write(f"GET /lineage/small HTTP/1.1\r\nHost: {authority.decode()}\r\n\r\n".encode())
raw.sendall(out.read())
wire, plain, records = b"", b"", 0
while b"small object" not in plain:
    chunk = raw.recv(65536)
    if not chunk:
        break
    wire += chunk
    while len(wire) >= 5 and len(wire) >= 5 + struct.unpack("!H", wire[3:5])[0]:
        n = 5 + struct.unpack("!H", wire[3:5])[0]
        records += 1
        inc.write(wire[:n])
        wire = wire[n:]
    try:
        while True:
            plain += tls.read(65536)
    except ssl.SSLWantReadError:
        pass
print(json.dumps({"records": records, "status": plain[:12].decode(errors="replace")}))
PY
r=$(python3 "$TEST_TMP/records.py" "$PROXY_PORT" "$secret" "$ROAR_CA_DIR/ca.pem")
assert_eq "$(jq -r .status <<<"$r")" "HTTP/1.1 200" "status"
assert_eq "$(jq -r .records <<<"$r")" 1 "TLS records carrying the response"

check "a server name outside the job's routing rules gets no certificate"
r=$(client www.example.com small)
assert_contains "$(jq -r .error <<<"$r")" "UNRECOGNIZED_NAME" "the handshake's failure"
grep -q "server name www.example.com, which this job's routing rules do not redirect" "$TEST_TMP/proxy.log" \
  || fail "no log line for the refused name"

check "a proxy without ROAR_S3_TLS refuses a redirected TLS connection"
stop_proxy
unset ROAR_S3_TLS
start_proxy "http://127.0.0.1:$web_port"
r=$(client s3.us-east-1.amazonaws.com small)
[[ $(jq -r '.error // empty' <<<"$r") != "" ]] || fail "the TLS connection was served: $r"
grep -q "refusing a redirected TLS connection from pid 4242 to s3.us-east-1.amazonaws.com: this roar-proxy does not intercept TLS" \
  "$TEST_TMP/proxy.log" || fail "no log line for the refusal"
echo ok
