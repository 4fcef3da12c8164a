# proxy.intercept_tls (issue 17): a boto3 client with no endpoint_url and
# no verify=False talks HTTPS to the default AWS endpoint names; the shim
# redirects those connections to the job's roar-proxy, which terminates
# TLS with a leaf of the roar CA minted for the server name, and forwards
# the requests to proxy.upstream_endpoint (auth-enforcing moto on
# loopback). Its PutObject and GetObject are recorded with the right
# digests, the certificate really was verified (the same client without
# roar's trust variables fails, and the leaf names the server), the CA key
# is its owner's only, and with interception off the same job records the
# "not observed" note instead. There is no DNS here: the AWS names are
# mapped to a loopback address in a hosts file bind-mounted over
# /etc/hosts in a private mount namespace (root only).
source "$(dirname "$0")/lib_s3.sh"
[[ $(id -u) -eq 0 ]] || skip "needs root to bind-mount a hosts file for the job (unshare --mount)"
need unshare b3sum
unshare --mount true 2>/dev/null || skip "unshare --mount is not permitted here"
start_moto
head -c 1500000 /dev/urandom >"$TEST_TMP/input.bin"
python3 - "$MOTO_URL" "$TEST_TMP/input.bin" <<'PY'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1])
s3.create_bucket(Bucket="lineage")
s3.put_object(Bucket="lineage", Key="raw/input.bin", Body=open(sys.argv[2], "rb").read())
PY

# The AWS names boto3 may use for us-east-1, on a loopback address nothing listens on.
cat >"$TEST_TMP/hosts" <<'EOF'
127.0.0.1 localhost
127.0.0.9 s3.amazonaws.com s3.us-east-1.amazonaws.com lineage.s3.amazonaws.com lineage.s3.us-east-1.amazonaws.com
EOF
# in_hosts_ns CMD...: runs CMD with that hosts file as /etc/hosts.
in_hosts_ns() {
  unshare --mount -- sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$TEST_TMP/hosts" "$@"
}
export ROAR_CA_DIR=$TEST_TMP/roar-ca
# The user's own trust is tested below; first, none.
unset AWS_CA_BUNDLE REQUESTS_CA_BUNDLE SSL_CERT_FILE CURL_CA_BUNDLE NODE_EXTRA_CA_CERTS

new_project
"$ROAR" proxy enable >/dev/null
"$ROAR" config set proxy.upstream_endpoint "$MOTO_URL" >/dev/null
"$ROAR" config set proxy.intercept_tls true >/dev/null
cat >job.py <<'PY'
import json, os, socket, ssl, subprocess, sys, boto3
from botocore.config import Config
mode = sys.argv[1]
out = {"pid": os.getpid(), "env": {k: os.environ.get(k) for k in (
    "AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS")}}
s3 = boto3.client("s3", region_name="us-east-1", config=Config(retries={"max_attempts": 1}))
try:
    data = s3.get_object(Bucket="lineage", Key="raw/input.bin")["Body"].read()
    open("output.local", "wb").write(bytes(reversed(data)))
    s3.put_object(Bucket="lineage", Key="out/reversed.bin", Body=bytes(reversed(data)))
    out["endpoint"] = s3.meta.endpoint_url
    out["ok"] = True
except Exception as e:
    out["ok"] = False
    out["error"] = repr(e)
if mode == "on":
    # The leaf the proxy presents: verified against the bundle roar set, for the name asked.
    name = "s3.us-east-1.amazonaws.com"
    ctx = ssl.create_default_context(cafile=os.environ["AWS_CA_BUNDLE"])
    with ctx.wrap_socket(socket.create_connection((name, 443), timeout=10), server_hostname=name) as tls:
        cert = tls.getpeercert()
        out["san"] = [v for k, v in cert["subjectAltName"]]
        out["issuer"] = dict(x[0] for x in cert["issuer"])
    # The same client without roar's trust variables: botocore's own CA file must refuse the leaf.
    env = {k: v for k, v in os.environ.items() if k not in out["env"]}
    probe = subprocess.run([sys.executable, "-c", """
import boto3
from botocore.config import Config
boto3.client("s3", region_name="us-east-1", config=Config(retries={"max_attempts": 1})).head_object(
    Bucket="lineage", Key="raw/input.bin")
"""], env=env, capture_output=True, text=True)
    out["untrusted_rc"] = probe.returncode
    out["untrusted_stderr"] = probe.stderr[-600:]
json.dump(out, open(f"job-{mode}.json", "w"))
PY
in_hosts_ns "$ROAR" run -q python3 job.py on
j=$(last_job)
r=$(cat job-on.json)
entry() { jq -c --arg p "$2" ".$1[] | select(.path == \$p)" <<<"$j"; }

check "boto3 on the default AWS endpoint over HTTPS succeeded under interception"
[[ $(jq -r .ok <<<"$r") == true ]] || fail "the job's S3 calls failed: $(jq -r .error <<<"$r")"
assert_contains "$(jq -r .endpoint <<<"$r")" "https://s3" "boto3's endpoint (no endpoint_url given)"

check "its GetObject is recorded as an S3 input with the BLAKE3 of the bytes and the caller's pid"
in_entry=$(entry inputs s3://lineage/raw/input.bin)
[[ -n $in_entry ]] || fail "S3 input missing: $(jq -c .inputs <<<"$j")"
assert_eq "$(jq -r .hashes.blake3 <<<"$in_entry")" "$(b3 "$TEST_TMP/input.bin")" "input BLAKE3"
assert_eq "$(jq -r .pid <<<"$in_entry")" "$(jq -r .pid <<<"$r")" "input pid"

check "its PutObject is recorded as an S3 output with the BLAKE3 and moto's ETag"
out_entry=$(entry outputs s3://lineage/out/reversed.bin)
[[ -n $out_entry ]] || fail "S3 output missing: $(jq -c .outputs <<<"$j")"
assert_eq "$(jq -r .hashes.blake3 <<<"$out_entry")" "$(b3 output.local)" "output BLAKE3"
assert_eq "$(jq -r .hashes.etag <<<"$out_entry")" "$(moto_etag lineage out/reversed.bin)" "output ETag"

check "the leaf names the server asked for and is issued by the roar CA"
assert_eq "$(jq -c .san <<<"$r")" '["s3.us-east-1.amazonaws.com"]' "subjectAltName"
assert_contains "$(jq -r .issuer.commonName <<<"$r")" "roar interception CA" "issuer"

check "the certificate is verified: without roar's trust variables the same client fails on it"
assert_ne "$(jq -r .untrusted_rc <<<"$r")" 0 "exit status without the bundle"
assert_contains "$(jq -r .untrusted_stderr <<<"$r")" "CERTIFICATE_VERIFY_FAILED" "the error without the bundle"

check "the job trusts a bundle of the system CAs plus the roar CA, and node the roar CA alone"
bundle=$(jq -r .env.AWS_CA_BUNDLE <<<"$r")
for v in REQUESTS_CA_BUNDLE SSL_CERT_FILE CURL_CA_BUNDLE; do
  assert_eq "$(jq -r ".env.$v" <<<"$r")" "$bundle" "$v"
done
assert_eq "$(jq -r .env.NODE_EXTRA_CA_CERTS <<<"$r")" "$ROAR_CA_DIR/ca.pem" "NODE_EXTRA_CA_CERTS"
ca_pem=$(cat "$ROAR_CA_DIR/ca.pem")
grep -qF -- "$(sed -n 2p "$ROAR_CA_DIR/ca.pem")" "$bundle" || fail "the roar CA is not in $bundle"
if [[ -f /etc/ssl/certs/ca-certificates.crt ]]; then
  head -c 2000 /etc/ssl/certs/ca-certificates.crt | cmp -s - <(head -c 2000 "$bundle") \
    || fail "$bundle does not start with the system CAs"
fi
[[ -n $ca_pem ]]

check "the roar CA lives outside the project, its key readable by its owner only"
assert_eq "$(stat -c %a "$ROAR_CA_DIR/ca-key.pem")" 600 "the CA key's mode"
assert_eq "$(stat -c %a "$ROAR_CA_DIR")" 700 "the CA directory's mode"
openssl x509 -in "$ROAR_CA_DIR/ca.pem" -noout -ext basicConstraints | grep -q "CA:TRUE" || fail "CA:TRUE missing"
[[ -z $(find "$PROJECT" -name 'ca-key.pem') ]] || fail "a CA key in the project"

check "no note about unobserved S3 traffic when interception is on"
assert_eq "$(jq -r '.notes // [] | map(select(test("not observed|intercept TLS"))) | length' <<<"$j")" 0 "notes"

check "a user's own CA bundle is kept: the job's bundle is their file plus the roar CA"
echo "# my roots" >"$TEST_TMP/mine.pem"
cat /etc/ssl/certs/ca-certificates.crt >>"$TEST_TMP/mine.pem" 2>/dev/null || true
AWS_CA_BUNDLE=$TEST_TMP/mine.pem in_hosts_ns "$ROAR" run -q python3 job.py on
r=$(cat job-on.json)
[[ $(jq -r .ok <<<"$r") == true ]] || fail "the job's S3 calls failed: $(jq -r .error <<<"$r")"
mine=$(jq -r .env.AWS_CA_BUNDLE <<<"$r")
assert_ne "$mine" "$bundle" "the bundle built on the user's file"
assert_eq "$(head -n 1 "$mine")" "# my roots" "the user's file first"
assert_eq "$(jq -r .env.SSL_CERT_FILE <<<"$r")" "$mine" "SSL_CERT_FILE follows the user's trust"

check "with interception off, the same job is not redirected and records the 'not observed' note"
"$ROAR" config set proxy.intercept_tls false >/dev/null
in_hosts_ns "$ROAR" run -q python3 job.py off || true
r=$(cat job-off.json)
j=$(last_job)
assert_eq "$(jq -r .ok <<<"$r")" false "the job's S3 calls (nothing listens at the mapped address)"
assert_eq "$(jq -r '.env | to_entries | map(select(.value != null)) | length' <<<"$r")" 0 "trust variables set"
notes=$(jq -r '.notes // [] | map(select(test("S3 over TLS to [a-z0-9.-]*amazonaws.com not observed: enable proxy.intercept_tls"))) | length' <<<"$j")
[[ $notes -ge 1 ]] || fail "no 'not observed' note: $(jq -c .notes <<<"$j")"
assert_eq "$(jq -r '[.outputs[] | select(.path | startswith("s3://"))] | length' <<<"$j")" 0 "S3 outputs"
echo ok
