# boto3 with a hard-coded endpoint_url (localhost:PORT, listed in
# ROAR_S3_HOSTS) is routed to the job's proxy with a PROXY v2 header naming
# the destination, the host name and the pid of the process that made the
# call (a subprocess too); STS on a host name the routes do not list ("vm",
# also 127.0.0.1) goes straight to moto and still works.
source "$(dirname "$0")/route_lib.bash"
moto_started
start_receiver
cat >"$TEST_TMP/client.py" <<'PY'
import json, os, subprocess, sys
import boto3
port = sys.argv[1]
s3 = boto3.client("s3", endpoint_url=f"http://localhost:{port}", region_name="us-east-1")
if len(sys.argv) > 2:  # the child: one write and one listing, then its pid
    s3.put_object(Bucket="routed", Key="from-child.txt", Body=b"child")
    s3.list_objects_v2(Bucket="routed")
    print(os.getpid())
    sys.exit(0)
s3.create_bucket(Bucket="routed")
s3.put_object(Bucket="routed", Key="a.txt", Body=b"hello")
assert s3.get_object(Bucket="routed", Key="a.txt")["Body"].read() == b"hello"
sts = boto3.client("sts", endpoint_url=f"http://vm:{port}", region_name="us-east-1")
account = sts.get_caller_identity()["Account"]
child = subprocess.run([sys.executable, __file__, port, "child"], capture_output=True, text=True, check=True)
keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="routed")["Contents"])
print(json.dumps({"pid": os.getpid(), "child": int(child.stdout.strip()), "account": account, "keys": keys}))
PY
traced "localhost:$MOTO_PORT" "$PYTHON" "$TEST_TMP/client.py" "$MOTO_PORT"
result=$(tail -1 "$OUT")
parent=$(jq -r .pid <<<"$result")
child=$(jq -r .child <<<"$result")
conns=$(recv)

check "the job's S3 calls worked through the receiver"
assert_eq "$(jq -c .keys <<<"$result")" '["a.txt","from-child.txt"]' "keys listed"
[[ "$(jq 'length' <<<"$conns")" -ge 2 ]] || fail "expected redirected connections, got: $conns"
assert_eq "$(jq '[.[] | select(.error)] | length' <<<"$conns")" 0 "connections refused by the receiver"

check "every redirected connection names moto's address, the host name and plain HTTP"
assert_eq "$(jq -r '[.[] | .dst] | unique | join(",")' <<<"$conns")" "127.0.0.1:$MOTO_PORT" "destinations"
assert_eq "$(jq -r '[.[] | .authority] | unique | join(",")' <<<"$conns")" "localhost" "authorities"
assert_eq "$(jq -r '[.[] | .flags] | unique | join(",")' <<<"$conns")" "0" "TLS flags"
assert_eq "$(jq -r '[.[] | .family] | unique | join(",")' <<<"$conns")" "4" "header family"

check "each connection carries the pid of the process that made it, the subprocess's too"
assert_eq "$(jq -r '[.[] | .pid] | unique | sort | map(tostring) | join(",")' <<<"$conns")" \
  "$(printf '%s\n' "$parent" "$child" | sort -n | paste -sd,)" "pids in the headers"
assert_contains "$(jq -r --argjson p "$child" '.[] | select(.pid == $p) | .first_line' <<<"$conns")" \
  "PUT /routed/from-child.txt" "the child's request"

check "STS on a host name not in the routes went straight to moto"
[[ "$(jq -r .account <<<"$result")" =~ ^[0-9]{12}$ ]] || fail "GetCallerIdentity: $result"
assert_eq "$(jq '[.[] | select(.first_line | startswith("POST / "))] | length' <<<"$conns")" 0 "STS requests relayed"

check "no S3 note: nothing was left unobserved"
assert_eq "$(notes | grep -c 'not observed' || true)" 0 "notes"
echo ok
