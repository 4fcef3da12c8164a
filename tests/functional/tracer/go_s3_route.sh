# Go S3 clients under `roar run` with the job's proxy enabled, talking to
# auth-enforcing moto on loopback by its own address, never pointed at the
# proxy: the tracer redirects their connects (a non-blocking connect polled
# with epoll) to the job's proxy behind a PROXY v2 header, so their S3
# calls are recorded as inputs and outputs of the Go process. A minio-go v7
# program (Debian's golang-github-minio-minio-go-v7-dev, signed aws-chunked
# uploads) puts and gets an object; rclone copies a directory up and down
# (against s3rver: moto refuses rclone's listing, TEST-PEERS.md).
. "$(dirname "$0")/tracer_lib.bash"
. "$ROAR_SOURCE_DIR/tests/functional/proxy/lib_s3.sh"
[[ -d /usr/share/gocode/src/github.com/minio/minio-go/v7 ]] ||
  skip "minio-go v7 is not installed (golang-github-minio-minio-go-v7-dev)"
build_go go_s3
start_moto
moto_port=${MOTO_URL##*:}
python3 - "$MOTO_URL" <<'PY'
import sys, boto3
boto3.client("s3", endpoint_url=sys.argv[1]).create_bucket(Bucket="gobkt")
PY
# The upstream's host:port is in the job's routing rules (ROAR_S3_HOSTS).
export ROAR_UPSTREAM_S3_ENDPOINT=$MOTO_URL
new_project
"$ROAR" proxy enable >/dev/null
head -c 200000 /dev/urandom >data.bin

job "$BIN/go_s3" "127.0.0.1:$moto_port" gobkt put obj/data.bin data.bin
check "a minio-go PUT runs to completion, traced, without being pointed at the proxy"
assert_eq "$JOB_RC" 0 "exit status of the upload"
assert_eq "$(tracer_of put)" ptrace "tracer of the Go client"
check "the object it put is an S3 output, with moto's ETag (a signed aws-chunked body: no BLAKE3, docs/proxy.md)"
out=$(jq -c '.outputs[] | select(.path == "s3://gobkt/obj/data.bin")' <<<"$JOB")
[[ -n $out ]] || fail "s3://gobkt/obj/data.bin is not an output: $(io_paths "$JOB" outputs | tr '\n' ' ')"
[[ "$(jq -r .hashes.etag <<<"$out")" != null ]] || fail "no ETag: $out"
check "the file it uploaded is an input"
assert_input "$PROJECT/data.bin" "$(b3 data.bin)"
check "the object reached moto intact"
python3 - "$MOTO_URL" "$PROJECT/data.bin" <<'PY'
import sys, boto3
body = boto3.client("s3", endpoint_url=sys.argv[1]).get_object(Bucket="gobkt", Key="obj/data.bin")["Body"].read()
assert body == open(sys.argv[2], "rb").read(), "the object's bytes differ from the file"
PY

job "$BIN/go_s3" "127.0.0.1:$moto_port" gobkt get obj/data.bin copy.bin
check "a minio-go GET is an S3 input with the BLAKE3 of the bytes, and its file an output"
assert_eq "$JOB_RC" 0 "exit status of the download"
assert_eq "$(io_digest "$JOB" inputs s3://gobkt/obj/data.bin)" "$(b3 data.bin)" "blake3 of the S3 input"
assert_output "$PROJECT/copy.bin"
assert_eq "$(b3 copy.bin)" "$(b3 data.bin)" "the copy"
check "a name the rules list and /etc/hosts maps routes by name (only localhost:PORT is listed, not its address)"
if grep -Eq '^127\.0\.0\.1[[:space:]].*\blocalhost\b' /etc/hosts; then
  set +e
  env -u ROAR_UPSTREAM_S3_ENDPOINT AWS_ENDPOINT_URL_S3="http://localhost:$moto_port" \
    "$ROAR" run -q -- "$BIN/go_s3" "localhost:$moto_port" gobkt get obj/data.bin byname.bin
  JOB_RC=$?
  set -e
  JOB=$(last_job)
  assert_eq "$JOB_RC" 0 "exit status of the download by name"
  assert_eq "$(io_digest "$JOB" inputs s3://gobkt/obj/data.bin)" "$(b3 data.bin)" "blake3 of the S3 input by name"
fi
check "the Go client saw the original destination as its peer (getpeername)"
"$ROAR" run -q -- "$BIN/go_s3" "127.0.0.1:$moto_port" gobkt get obj/data.bin copy2.bin >peer.out
assert_eq "$(sed -n 's/^peer=//p' peer.out)" "127.0.0.1:$moto_port" "RemoteAddr"

# rclone lists with an encoded prefix moto refuses (TEST-PEERS.md): s3rver.
need rclone
start_s3rver rcbkt
export ROAR_UPSTREAM_S3_ENDPOINT=$S3RVER_URL
new_project rclone
"$ROAR" proxy enable >/dev/null
mkdir -p src
for i in 1 2; do head -c $((i * 70000)) /dev/urandom >"src/f$i.bin"; done
remote=":s3,provider=Other,env_auth=true,region=us-east-1,endpoint='$S3RVER_URL':rcbkt/rc"
job env -u AWS_CA_BUNDLE rclone --config /dev/null copy src "$remote"
check "rclone copying to s3rver by its own address: every object is an S3 output with the BLAKE3 of the file"
assert_eq "$JOB_RC" 0 "exit status of rclone's upload"
for f in f1.bin f2.bin; do
  out=$(jq -c ".outputs[] | select(.path == \"s3://rcbkt/rc/$f\")" <<<"$JOB")
  [[ -n $out ]] || fail "s3://rcbkt/rc/$f is not an output: $(io_paths "$JOB" outputs | tr '\n' ' ')"
  assert_eq "$(jq -r .hashes.blake3 <<<"$out")" "$(b3 "src/$f")" "blake3 of s3://rcbkt/rc/$f"
done
job env -u AWS_CA_BUNDLE rclone --config /dev/null copy "$remote" dst
check "rclone copying back: every object is an S3 input, every copy an output"
assert_eq "$JOB_RC" 0 "exit status of rclone's download"
for f in f1.bin f2.bin; do
  assert_eq "$(io_digest "$JOB" inputs "s3://rcbkt/rc/$f")" "$(b3 "src/$f")" "blake3 of input s3://rcbkt/rc/$f"
  assert_output "$PROJECT/dst/$f"
done
echo ok
