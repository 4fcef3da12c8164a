# s3cmd with its own host configuration and aws CLI v2 with --endpoint-url
# (both Python programs of /usr/bin/python3) are routed by host name to the
# job's proxy; each header carries the pid of the client process.
source "$(dirname "$0")/route_lib.bash"
need s3cmd
[[ -x /usr/bin/aws ]] || skip "aws CLI v2 (/usr/bin/aws) is not installed"
moto_started
start_receiver
echo "routed bytes" >"$TEST_TMP/up.txt"
host=localhost:$MOTO_PORT
s3c() {
  s3cmd --config /dev/null --access_key="$AWS_ACCESS_KEY_ID" --secret_key="$AWS_SECRET_ACCESS_KEY" \
    --host="$host" --host-bucket="$host" --no-ssl --region=us-east-1 --no-progress "$@"
}

check "s3cmd (host from its own configuration) is routed, with its pid"
before=$(recv_lines)
traced "$host" bash -c "$(declare -f s3c); host=$host; s3c mb s3://clients && s3c put '$TEST_TMP/up.txt' s3://clients/s3cmd.txt && s3c get --force s3://clients/s3cmd.txt '$TEST_TMP/back.txt'"
cmp "$TEST_TMP/up.txt" "$TEST_TMP/back.txt" || fail "s3cmd round trip differs"
conns=$(recv "$before")
[[ "$(jq length <<<"$conns")" -ge 3 ]] || fail "expected one connection per s3cmd call, got $conns"
assert_eq "$(jq -r '[.[] | .authority] | unique | join(",")' <<<"$conns")" "localhost" "authorities"
s3cmd_pids=$(pids_of s3cmd | paste -sd,)
assert_eq "$(jq -r '[.[] | .pid] | unique | sort | map(tostring) | join(",")' <<<"$conns")" \
  "$(tr ',' '\n' <<<"$s3cmd_pids" | sort -n | paste -sd,)" "pids in the headers"
assert_contains "$(jq -r '.[].first_line' <<<"$conns")" "PUT /clients/s3cmd.txt" "the upload went through"

check "aws CLI v2 with --endpoint-url is routed, with its pid"
before=$(recv_lines)
traced "$host" /usr/bin/aws --endpoint-url "http://$host" s3 cp "$TEST_TMP/up.txt" s3://clients/awscli.txt
conns=$(recv "$before")
[[ "$(jq length <<<"$conns")" -ge 1 ]] || fail "no connection from aws: $conns"
assert_eq "$(jq -r '[.[] | .pid] | unique | join(",")' <<<"$conns")" "$(pids_of /usr/bin/aws | head -1)" "pid"
assert_contains "$(jq -r '.[].first_line' <<<"$conns")" "PUT /clients/awscli.txt" "the upload went through"
# (no Delimiter: moto refuses an encoded '/' in queries)
listing=$(/usr/bin/aws --endpoint-url "$MOTO_URL" s3api list-objects-v2 --bucket clients --query 'Contents[].Key')
assert_contains "$listing" "awscli.txt" "object stored"
echo ok
