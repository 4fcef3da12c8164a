# `roar reproduce` with an S3 external input (issue 13): a two-step
# pipeline in a git repository whose first step reads s3://srcdata/raw.csv
# through the job's proxy (moto, SigV4 checked). The plan shows the object
# with its ETag and size (and with --remote whether it is there); --run
# HEADs it with the user's credentials before anything runs: it reproduces
# bit-for-bit while the object is there, goes on with a warning when the
# HEAD cannot be answered, and refuses with exit 2 naming the object once
# it is overwritten (modified) or deleted (missing). A job that writes an
# S3 object is refused as a write outside the repository.
source "$(dirname "$0")/lib_s3.sh"
source "$(dirname "$0")/../reproduce/lib_reproduce.bash"
start_moto
new_project
git_ init -q .
# The job's S3 calls go through its proxy, which forwards them to moto.
export ROAR_UPSTREAM_S3_ENDPOINT=$MOTO_URL
"$ROAR" proxy enable >/dev/null
printf '.roar/\nout/\n' >.gitignore
cat >fetch.py <<'PY'
import sys, boto3
body = boto3.client("s3", endpoint_url=sys.argv[1]).get_object(Bucket="srcdata", Key="raw.csv")["Body"].read()
open(sys.argv[2], "wb").write(body.upper())
PY
cat >derive.py <<'PY'
import sys
open(sys.argv[2], "w").write("".join(reversed(open(sys.argv[1]).read().splitlines(True))))
PY
git_ add .gitignore fetch.py derive.py
git_ commit -q -m pipeline
mkdir out
python3 - "$MOTO_URL" <<'PY'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1])
s3.create_bucket(Bucket="srcdata")
s3.put_object(Bucket="srcdata", Key="raw.csv", Body=b"id,value\n1,a\n2,b\n")
PY
"$ROAR" run -q "$PY" fetch.py "$MOTO_URL" out/a.txt
"$ROAR" run -q "$PY" derive.py out/a.txt out/b.txt
uri=s3://srcdata/raw.csv
etag=$(show_json @1 | jq -r --arg p "$uri" '.inputs[] | select(.path == $p) | .hashes.etag')
[[ -n "$etag" && "$etag" != null ]] || fail "the job's S3 read was not recorded with its ETag: $(show_json @1 | jq -c .inputs)"

check "the plan lists the S3 object as an external input with its ETag and size"
plan=$("$ROAR" reproduce out/b.txt)
assert_contains "$plan" "External inputs (1)" "one external input"
assert_contains "$plan" "$uri  blake3 " "the object"
assert_contains "$plan" "  etag $etag  size 17  last seen: $uri" "its ETag and size"
assert_not_contains "$plan" "now:" "no HEAD without --remote"
pj=$("$ROAR" reproduce --json out/b.txt)
assert_eq "$(jq -c --arg p "$uri" '.inputs[] | select(.path == $p) | [.from, .etag, .size]' <<<"$pj")" \
  "[\"external\",$(jq -Rc . <<<"$etag"),17]" "JSON input"

check "with --remote the plan says the object is there as recorded"
assert_contains "$("$ROAR" reproduce --remote out/b.txt)" "    now: present" "state in the text"
assert_eq "$("$ROAR" reproduce --remote --json out/b.txt | jq -r --arg p "$uri" '.inputs[] | select(.path == $p) | .remote.state')" \
  present "state in the JSON"

check "--run --json reproduces bit-for-bit while the object is there"
reproduce_json out/b.txt
assert_eq "$RC" 0 "exit status (stderr: $ERR)"
assert_eq "$(jq -r .reproduced <<<"$OUT")" true "reproduced"
assert_eq "$(jq -r .artifacts_compared <<<"$OUT")" 2 "both outputs compared"
assert_eq "$(jq -c .warnings <<<"$OUT")" "[]" "no warnings"
dir=$(jq -r .directory <<<"$OUT")
assert_eq "$(b3 "$dir/out/b.txt")" "$(b3 out/b.txt)" "the rebuilt output is identical"

check "an S3 input that cannot be checked is a warning and the rebuild goes on"
dead=http://127.0.0.1:$(free_port)
AWS_ENDPOINT_URL_S3=$dead reproduce_json out/b.txt
assert_eq "$RC" 0 "exit status (stderr: $ERR)"
assert_eq "$(jq -r .reproduced <<<"$OUT")" true "reproduced"
assert_contains "$(jq -r '.warnings[0]' <<<"$OUT")" "S3 input $uri was not checked (network error" "JSON warning"
assert_contains "$ERR" "roar: warning: S3 input $uri was not checked" "warning on stderr"

check "after the object is overwritten with other bytes --run refuses with exit 2, saying modified"
python3 -c 'import sys,boto3; boto3.client("s3", endpoint_url=sys.argv[1]).put_object(
  Bucket="srcdata", Key="raw.csv", Body=b"id,value\n1,z\n2,y\n")' "$MOTO_URL"
before=$(find "$TEST_TMP" -maxdepth 1 -name 'roar-reproduce-*' | wc -l)
reproduce_json out/b.txt
assert_eq "$RC" 2 "refused (stdout: $OUT)"
assert_contains "$ERR" "roar: S3 input not available as recorded: $uri is modified (ETag " "names it as modified"
assert_contains "$ERR" "recorded $etag)" "says what differs"
assert_eq "$(jq -c '.unavailable_inputs[0] | [.path, .state]' <<<"$OUT")" "[\"$uri\",\"modified\"]" "JSON"
assert_eq "$(jq -r .reproduced <<<"$OUT")" false "not reproduced"
assert_eq "$(find "$TEST_TMP" -maxdepth 1 -name 'roar-reproduce-*' | wc -l)" "$before" "nothing was checked out"
assert_contains "$("$ROAR" reproduce --remote out/b.txt)" "    now: modified (ETag " "the plan with --remote says so"

check "after the object is deleted --run refuses with exit 2, naming it as missing"
python3 -c 'import sys,boto3; boto3.client("s3", endpoint_url=sys.argv[1]).delete_object(
  Bucket="srcdata", Key="raw.csv")' "$MOTO_URL"
reproduce_json out/b.txt
assert_eq "$RC" 2 "refused (stdout: $OUT)"
assert_contains "$ERR" "roar: S3 input not available as recorded: $uri is missing (HEAD answered 404)" "names it as missing"
assert_eq "$(jq -c '.unavailable_inputs[0] | [.path, .state]' <<<"$OUT")" "[\"$uri\",\"missing\"]" "JSON"

check "a job that wrote an S3 object is an output outside the repository, refused without --allow-outside-writes"
cat >publish.py <<'PY'
import sys, boto3
boto3.client("s3", endpoint_url=sys.argv[1]).put_object(Bucket="srcdata", Key="published.txt", Body=open(sys.argv[2], "rb").read())
PY
"$ROAR" run -q "$PY" publish.py "$MOTO_URL" out/b.txt
assert_eq "$("$ROAR" reproduce --json @3 | jq -c '[.outside_outputs[].path]')" '["s3://srcdata/published.txt"]' "the plan lists it"
reproduce_json @3
assert_eq "$RC" 2 "refused (stdout: $OUT)"
assert_contains "$ERR" "roar: the jobs write outside the repository, where a rebuild would overwrite the files in place: s3://srcdata/published.txt" "names it"
echo ok
