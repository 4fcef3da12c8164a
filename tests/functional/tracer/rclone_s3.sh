# rclone (a Go program, traced) copying a local directory to S3 and back
# under `roar run` with the job's proxy enabled (s3rver upstream; rclone is
# pointed at the proxy's own address, http://$ROAR_S3_PROXY, since its S3 traffic
# is not redirected yet): the local files it read are inputs and the files
# it wrote outputs, with b3sum's digests, seen by the tracer (rclone is
# handed over from the shell that execs it); the objects are S3 outputs and
# then S3 inputs with the ETag the upstream returned and the BLAKE3 of the
# bytes, and the second job is linked to the first through them.
. "$(dirname "$0")/tracer_lib.bash"
. "$ROAR_SOURCE_DIR/tests/functional/proxy/lib_s3.sh"
need rclone
"$ROAR" proxy --help >/dev/null 2>&1 || skip "'roar proxy' is not wired into the CLI yet"
start_s3rver tracer-bkt
export ROAR_UPSTREAM_S3_ENDPOINT=$S3RVER_URL
new_project
"$ROAR" proxy enable >/dev/null
mkdir -p src
for i in 1 2 3; do head -c $((i * 90000)) /dev/urandom >"src/f$i.bin"; done

# The shim cannot route rclone's raw connects: the remote names the proxy's own
# address (ROAR_S3_PROXY, in the job's environment; the re-signing path).
cat >rc.sh <<'SH'
remote=":s3,provider=Other,env_auth=true,region=us-east-1,endpoint='http://$ROAR_S3_PROXY':tracer-bkt/dir"
if [ "$1" = up ]; then
  exec env -u AWS_CA_BUNDLE rclone --config /dev/null copy src "$remote"
fi
exec env -u AWS_CA_BUNDLE rclone --config /dev/null copy "$remote" dst
SH

job sh rc.sh up
check "the upload runs, rclone under the tracer"
assert_eq "$JOB_RC" 0 "exit status of the upload"
assert_eq "$(jq -r '[.processes[] | select(.argv[0] == "rclone")] | last | .tracer' <<<"$JOB")" ptrace "rclone's tracer"
check "every local file rclone read is an input with b3sum's digest"
for f in f1.bin f2.bin f3.bin; do
  assert_input "$PROJECT/src/$f" "$(b3 "src/$f")"
done
check "every object it put is an S3 output with the BLAKE3 of the bytes and the upstream's ETag"
up=$JOB
for f in f1.bin f2.bin f3.bin; do
  out=$(jq -c ".outputs[] | select(.path == \"s3://tracer-bkt/dir/$f\")" <<<"$up")
  [[ -n "$out" ]] || fail "s3://tracer-bkt/dir/$f is not an output: $(io_paths "$up" outputs | tr '\n' ' ')"
  assert_eq "$(jq -r .hashes.blake3 <<<"$out")" "$(b3 "src/$f")" "blake3 of s3://tracer-bkt/dir/$f"
  [[ "$(jq -r .hashes.etag <<<"$out")" != null ]] || fail "no ETag for s3://tracer-bkt/dir/$f"
done

job sh rc.sh down
check "the download runs and every copy is an output with b3sum's digest"
assert_eq "$JOB_RC" 0 "exit status of the download"
for f in f1.bin f2.bin f3.bin; do
  assert_output "$PROJECT/dst/$f"
  assert_eq "$(b3 "dst/$f")" "$(b3 "src/$f")" "the copy of $f"
done
check "every object it got is an S3 input with the ETag the upload recorded"
for f in f1.bin f2.bin f3.bin; do
  assert_eq "$(jq -r ".inputs[] | select(.path == \"s3://tracer-bkt/dir/$f\") | .hashes.etag" <<<"$JOB")" \
    "$(jq -r ".outputs[] | select(.path == \"s3://tracer-bkt/dir/$f\") | .hashes.etag" <<<"$up")" "ETag of $f"
done
check "no partial-file names are outputs"
assert_eq "$(io_paths "$JOB" outputs | grep -c partial || true)" 0 "partial outputs"
echo ok
