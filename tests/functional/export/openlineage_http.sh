# `roar export --format openlineage --url URL`: each event POSTed to
# URL/api/v1/lineage as JSON (the same events stdout gets, schema-valid),
# an API key as a bearer token, retries while the endpoint is busy, and one
# line saying why when it refuses or is not there.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_export.bash"
new_project
make_pipeline
"$ROAR" export --format openlineage >stdout.jsonl

check "events are POSTed to /api/v1/lineage, the same ones stdout gets"
start_receiver
"$ROAR" export --format openlineage --url "$RECEIVER_URL" >out.txt 2>err.txt
assert_eq "$(cat out.txt)" "" "stdout with --url"
assert_contains "$(cat err.txt)" "sent 8 events (4 jobs) to $RECEIVER_URL/api/v1/lineage" "summary"
cmp stdout.jsonl "$RECEIVED" || fail "the receiver got other events than stdout shows"
[[ ! -e "$RECEIVED.bad-type" ]] || fail "Content-Type was not application/json: $(cat "$RECEIVED.bad-type")"
validate "$RECEIVED"

check "OPENLINEAGE_API_KEY is sent as a bearer token"
start_receiver
OPENLINEAGE_API_KEY=k3y "$ROAR" export --format openlineage --session 2 --url "$RECEIVER_URL/" 2>/dev/null
assert_eq "$(sort -u "$RECEIVED.auth")" "Bearer k3y" "Authorization"
assert_eq "$(wc -l <"$RECEIVED")" 2 "events of session 2"

check "a busy endpoint (503) is retried until it accepts"
start_receiver --fail-first 2
"$ROAR" export --format openlineage --session 2 --url "$RECEIVER_URL" 2>/dev/null
assert_eq "$(cat "$RECEIVED")" "$(tail -n 2 stdout.jsonl)" "events after retries"

check "an endpoint refusing the events (400) fails at once with one line naming the status"
start_receiver --status 400
expect_failure "$ROAR" export --format openlineage --url "$RECEIVER_URL"
assert_eq "$(wc -l <<<"$ERR_OUT")" 1 "lines of the error"
assert_contains "$ERR_OUT" "roar: export: sending an event of job" "error start"
assert_contains "$ERR_OUT" 'HTTP 400: {"error":"receiver told to refuse"}' "status and answer"
assert_contains "$ERR_OUT" "0 of 8 events were sent" "progress"
assert_not_contains "$ERR_OUT" "tried" "no retry for a 400"

check "no endpoint at the URL fails with one line after retrying"
port=$(free_port)
expect_failure "$ROAR" export --format openlineage --url "http://127.0.0.1:$port"
assert_eq "$(wc -l <<<"$ERR_OUT")" 1 "lines of the error"
assert_contains "$ERR_OUT" "http://127.0.0.1:$port/api/v1/lineage failed" "names the endpoint"
assert_contains "$ERR_OUT" "tried 4 times" "retried"

check "a password or token in the URL is never printed, on success or failure"
start_receiver
"$ROAR" export --format openlineage --session 2 --url "${RECEIVER_URL/http:\/\//http://alice:hunter2pw@}" 2>err.txt >/dev/null
assert_contains "$(cat err.txt)" "sent " "sent with a password in the URL"
assert_not_contains "$(cat err.txt)" "hunter2pw" "the summary"
"$ROAR" export --format openlineage --session 2 --url "$RECEIVER_URL/api/v1/lineage?access_token=tok1234567890" \
  2>err.txt >/dev/null || true # sent or refused: either way, what it says
[[ -s err.txt ]] || fail "nothing said of the export with a token"
assert_not_contains "$(cat err.txt)" "tok1234567890" "the summary or error with a token"
expect_failure "$ROAR" export --format openlineage --url "http://alice:hunter2pw@127.0.0.1:$port"
assert_not_contains "$ERR_OUT" "hunter2pw" "the error"

check "a URL that is not http(s) is refused before anything is read"
expect_failure "$ROAR" export --format openlineage --url "localhost:5000"
assert_contains "$ERR_OUT" "--url takes an http:// or https:// URL" "bad URL"
echo ok
