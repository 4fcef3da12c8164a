# A redirected connection (S3-ROUTING, issue 17): roar-proxy started with a
# job secret (ROAR_S3_SECRET) and routing rules (ROAR_S3_HOSTS) admits a
# PROXY v2 header carrying that secret and naming a routed destination,
# then forwards the client's own signed request unchanged to that
# destination (auth-enforcing moto): any key pair works, none is the
# proxy's. Its S3 events carry the pid from the header. Refused (closed):
# a wrong or missing secret, a destination the rules do not route (moto's
# port is not the only thing on 127.0.0.1), the metadata address behind an
# S3 name.
source "$(dirname "$0")/lib_s3.sh"
need b3sum
[[ -x "$RING_TOOL" ]] || fail "ring tool not built at $RING_TOOL"
start_moto
moto_port=${MOTO_URL##*:}
python3 - "$MOTO_URL" <<'PY'
import sys, boto3
boto3.client("s3", endpoint_url=sys.argv[1]).create_bucket(Bucket="routed")
PY
# A second key pair for the same moto: the proxy holds neither.
read -r key2 secret2 < <(python3 - "$MOTO_URL" <<'PY'
import json, sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1")
iam.create_user(UserName="second")
key = iam.create_access_key(UserName="second")["AccessKey"]
iam.put_user_policy(UserName="second", PolicyName="all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
print(key["AccessKeyId"], key["SecretAccessKey"])
PY
)
secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
ring=/roar-proxytest-$$-$RANDOM
"$RING_TOOL" create "$ring" 4096
on_exit "'$RING_TOOL' remove '$ring'"
# The proxy's own credentials are bogus: forwarding must not need them.
unset ROAR_UPSTREAM_S3_ENDPOINT
AWS_ACCESS_KEY_ID=proxy-own AWS_SECRET_ACCESS_KEY=proxy-own ROAR_S3_SECRET=$secret \
  ROAR_S3_HOSTS="127.0.0.1:$moto_port" start_proxy "" --ring "$ring"
client() { python3 "$ROAR_SOURCE_DIR/tests/functional/proxy/pp2_client.py" "$PROXY_PORT" "$@"; }

check "a header with the job's secret is admitted and the request reaches moto as the client signed it"
r=$(client 127.0.0.1 "$moto_port" "" "$secret" 4242 PUT /routed/a.txt hello)
assert_eq "$(jq -r .status <<<"$r")" 200 "PUT through the redirect: $r"
r=$(client 127.0.0.1 "$moto_port" "" "$secret" 4243 GET /routed/a.txt)
assert_eq "$(jq -r .status <<<"$r")" 200 "GET through the redirect: $r"
assert_eq "$(jq -r .body <<<"$r")" hello "GET body"

check "a second key pair works too (no signature check, no re-signing)"
r=$(AWS_ACCESS_KEY_ID=$key2 AWS_SECRET_ACCESS_KEY=$secret2 client 127.0.0.1 "$moto_port" "" "$secret" 4244 \
  PUT /routed/b.txt second)
assert_eq "$(jq -r .status <<<"$r")" 200 "PUT with the second key pair: $r"

check "moto still checks signatures: a bad key pair is refused by moto, not by the proxy"
r=$(AWS_ACCESS_KEY_ID=$key2 AWS_SECRET_ACCESS_KEY=wrong client 127.0.0.1 "$moto_port" "" "$secret" 4245 \
  GET /routed/a.txt)
assert_eq "$(jq -r .status <<<"$r")" 403 "bad signature: $r"

check "a wrong or missing secret is refused"
assert_eq "$(client 127.0.0.1 "$moto_port" "" "$(tr 0-9a-f a-f0-9 <<<"$secret")" 1 GET /routed/a.txt | jq -r .status)" \
  closed "wrong secret"
assert_eq "$(client 127.0.0.1 "$moto_port" "" "" 1 GET /routed/a.txt | jq -r .status)" closed "no secret"

check "a destination the routing rules do not redirect is refused"
assert_eq "$(client 127.0.0.1 "$PROXY_PORT" "" "$secret" 1 GET /_roar/health | jq -r .status)" closed \
  "the proxy's own port"
assert_eq "$(client 127.0.0.1 443 sts.amazonaws.com "$secret" 1 GET / | jq -r .status)" closed "a non-S3 AWS name"
assert_eq "$(client 169.254.169.254 80 s3.amazonaws.com "$secret" 1 GET /latest/meta-data/ | jq -r .status)" closed \
  "the metadata address behind an S3 name"

check "the proxy counts what it admitted and refused"
assert_eq "$(metric roar_proxy_redirects_admitted_total)" 4 "admitted"
assert_eq "$(metric roar_proxy_redirects_refused_total)" 5 "refused"

check "the S3 events carry the pid from the header and the body's BLAKE3"
stop_proxy
"$RING_TOOL" dump "$ring" >"$TEST_TMP/events.jsonl" 2>"$TEST_TMP/dump.log"
printf hello >"$TEST_TMP/hello"
python3 - "$TEST_TMP/events.jsonl" "$(b3 "$TEST_TMP/hello")" <<'PY'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
seq = [(e["op"], e["uri"], e["pid"]) for e in evs]
assert seq == [(65, "s3://routed/a.txt", 4242), (64, "s3://routed/a.txt", 4243),
               (65, "s3://routed/b.txt", 4244)], seq
extra = dict(l.split("=", 1) for l in evs[0]["extra"].splitlines() if l)
assert extra["blake3"] == sys.argv[2], extra
PY
grep -q "refusing a redirected connection from 127.0.0.1.*: a PROXY header without this job.s secret" \
  "$TEST_TMP/proxy.log" || fail "no refusal in the log"
echo ok
