# `roar status --remote`: the S3 objects a job wrote through its proxy to
# moto (SigV4 checked) are HEADed with the user's own credentials and
# compared with the record (ETag and size): present, then modified after an
# overwrite outside roar, then missing after a delete; without credentials,
# with refused ones or with an unreachable endpoint each object is "not
# checked" with the reason, and the command still succeeds. Without
# --remote the old "remote (not checked)" count stays.
source "$(dirname "$0")/lib_s3.sh"
"$ROAR" proxy --help >/dev/null 2>&1 || skip "'roar proxy' is not wired into the CLI yet"
start_moto
export ROAR_UPSTREAM_S3_ENDPOINT=$MOTO_URL
new_project
"$ROAR" proxy enable >/dev/null

python3 - "$MOTO_URL" <<'PY'
import sys, boto3
boto3.client("s3", endpoint_url=sys.argv[1]).create_bucket(Bucket="lineage")
PY
# Twelve objects, more than the eight HEADs kept in flight at once.
cat >publish.py <<'PY'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1])
for i in range(12):
    s3.put_object(Bucket="lineage", Key=f"out/part-{i:02d}.bin", Body=bytes([i]) * (1000 + i))
open("done.txt", "w").write("published\n")
PY
"$ROAR" run -q python3 publish.py "$MOTO_URL"
n_s3=$(show_json @1 | jq '[.outputs[] | select(.path | startswith("s3://lineage/out/"))] | length')
assert_eq "$n_s3" 12 "S3 outputs recorded by the job"

# remote_state PATH [FLAGS]: the "remote" object of PATH in `roar status --remote --json`.
remote_state() {
  "$ROAR" status --remote --json | jq -c --arg p "$1" '.files[] | select(.path == $p) | .remote'
}
k0=s3://lineage/out/part-00.bin

check "without --remote S3 objects are counted as not checked, and nothing is asked"
text=$("$ROAR" status)
assert_contains "$text" "Tracked files: 2 present, 0 modified, 0 missing, 12 remote (not checked)"
assert_eq "$("$ROAR" status --json | jq -c '[.files[] | select(.path == "'$k0'") | has("remote")], has("remote_counts")' | tr -d '\n')" \
  "[false]false" "no remote results without --remote"

check "with --remote every object the job wrote is present as recorded"
text=$("$ROAR" status --remote)
assert_contains "$text" "Tracked files: 2 present, 0 modified, 0 missing; S3 objects: 12 present, 0 modified, 0 missing, 0 not checked"
j=$("$ROAR" status --remote --json)
assert_eq "$(jq -c .remote_counts <<<"$j")" '{"missing":0,"modified":0,"not_checked":0,"present":12}' "remote_counts"
assert_eq "$(jq -c '.counts' <<<"$j")" '{"missing":0,"modified":0,"present":2,"remote":12}' "the old counts keep their keys"
recorded_etag=$(show_json @1 | jq -r --arg p "$k0" '.outputs[] | select(.path == $p) | .hashes.etag')
r=$(jq -c --arg p "$k0" '.files[] | select(.path == $p) | .remote' <<<"$j")
assert_eq "$(jq -r .state <<<"$r")" present "state of $k0"
assert_eq "$(jq -r .etag <<<"$r")" "$recorded_etag" "ETag answered by HEAD"
assert_eq "$(jq -r .size <<<"$r")" 1000 "size answered by HEAD"

check "proxy.upstream_endpoint from roar.toml is the endpoint when no variable names one"
"$ROAR" config set proxy.upstream_endpoint "$MOTO_URL" >/dev/null
assert_eq "$(env -u ROAR_UPSTREAM_S3_ENDPOINT "$ROAR" status --remote --json | jq -r .remote_counts.present)" 12 \
  "present through proxy.upstream_endpoint"

check "an object overwritten outside roar is modified, with the ETag that changed"
python3 -c 'import sys,boto3; boto3.client("s3", endpoint_url=sys.argv[1]).put_object(
  Bucket="lineage", Key="out/part-00.bin", Body=b"rewritten elsewhere")' "$MOTO_URL"
r=$(remote_state "$k0")
assert_eq "$(jq -r .state <<<"$r")" modified "state after the overwrite"
assert_eq "$(jq -r .size <<<"$r")" 19 "size after the overwrite"
assert_contains "$(jq -r .reason <<<"$r")" "recorded $recorded_etag"
text=$("$ROAR" status --remote)
assert_contains "$text" "S3 objects: 11 present, 1 modified, 0 missing, 0 not checked"
assert_contains "$text" "modified  $k0  (ETag "

check "an object deleted outside roar is missing"
python3 -c 'import sys,boto3; boto3.client("s3", endpoint_url=sys.argv[1]).delete_object(
  Bucket="lineage", Key="out/part-01.bin")' "$MOTO_URL"
assert_eq "$(remote_state s3://lineage/out/part-01.bin | jq -r .state)" missing "state after the delete"
text=$("$ROAR" status --remote)
assert_contains "$text" "S3 objects: 10 present, 1 modified, 1 missing, 0 not checked"
assert_contains "$text" "missing   s3://lineage/out/part-01.bin"

check "without credentials each object is not checked, with the reason, and status still succeeds"
nocred=(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_SHARED_CREDENTIALS_FILE="$TEST_TMP/none" \
  AWS_CONFIG_FILE="$TEST_TMP/none")
text=$("${nocred[@]}" "$ROAR" status --remote)
assert_contains "$text" "S3 objects: 0 present, 0 modified, 0 missing, 12 not checked"
assert_contains "$text" "not checked  $k0  (no credentials: no AWS credentials found"
r=$("${nocred[@]}" "$ROAR" status --remote --json | jq -c --arg p "$k0" '.files[] | select(.path == $p) | .remote')
assert_eq "$(jq -r .state <<<"$r")" not_checked "state without credentials"

check "a profile that needs credential_process is named as unsupported"
printf '[profile sso-user]\ncredential_process = /bin/false\n' >"$TEST_TMP/config-process"
r=$(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_PROFILE=sso-user AWS_CONFIG_FILE="$TEST_TMP/config-process" \
  AWS_SHARED_CREDENTIALS_FILE="$TEST_TMP/none" "$ROAR" status --remote --json | jq -r --arg p "$k0" \
  '.files[] | select(.path == $p) | .remote.reason')
assert_contains "$r" "gets its keys through credential_process, which roar does not support"

check "credentials the endpoint refuses give not checked with HTTP 403"
r=$(AWS_ACCESS_KEY_ID=AKIAUNKNOWNUNKNOWN00 AWS_SECRET_ACCESS_KEY=wrong "$ROAR" status --remote --json \
  | jq -c --arg p "$k0" '.files[] | select(.path == $p) | .remote')
assert_eq "$(jq -r .state <<<"$r")" not_checked "state with refused credentials"
assert_contains "$(jq -r .reason <<<"$r")" "HTTP 403"

check "an unreachable endpoint gives not checked with the network error"
dead=http://127.0.0.1:$(free_port)
r=$(AWS_ENDPOINT_URL_S3=$dead "$ROAR" status --remote --json | jq -c --arg p "$k0" '.files[] | select(.path == $p) | .remote')
assert_eq "$(jq -r .state <<<"$r")" not_checked "state with a closed port"
assert_contains "$(jq -r .reason <<<"$r")" "network error"
echo ok
