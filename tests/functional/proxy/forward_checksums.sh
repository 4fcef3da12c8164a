# A client's verified trailing checksum (x-amz-checksum-* in an
# unsigned-trailer aws-chunked body) reaches the upstream when the proxy
# forwards checksums (--forward-checksums, roar.toml proxy.forward_checksums):
# moto (SigV4 checked) then returns the client's value for HeadObject and
# GetObject with ChecksumMode=ENABLED, for each algorithm, and a job records
# the object's decoded size and BLAKE3. With the switch
# off (the default) moto stores no checksum, and s3rver, which does not
# decode aws-chunked, stores the plain bytes; with it on s3rver would store
# the framing, which is why the default is off.
source "$(dirname "$0")/lib_s3.sh"
client=$(dirname "$0")/trailer_checksum_client.py
head -c $((150 * 1024 + 7)) /dev/urandom >"$TEST_TMP/data.bin"
size=$(stat -c %s "$TEST_TMP/data.bin")

# expected_checksum ALGORITHM: base64 of the data's checksum, as the client sends it.
expected_checksum() { "$PYTHON" "$client" - - - "$TEST_TMP/data.bin" "$1" print; }

# stored_checksums URL BUCKET KEY: "HEAD-VALUE GET-VALUE" of the object's
# checksums with ChecksumMode=ENABLED (each "-" when there is none), and
# fails unless GetObject returns the uploaded bytes.
stored_checksums() {
  python3 - "$1" "$2" "$3" "$TEST_TMP/data.bin" <<'PY'
import sys, boto3
url, bucket, key, path = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=url)
def value(r):
    found = [r[k] for k in ("ChecksumCRC32", "ChecksumCRC32C", "ChecksumSHA1", "ChecksumSHA256") if r.get(k)]
    return found[0] if found else "-"
head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
got = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
assert got["Body"].read() == open(path, "rb").read(), "stored bytes differ"
print(value(head), value(got))
PY
}

start_moto
AWS_ENDPOINT_URL_S3=$MOTO_URL aws s3 mb s3://sums >/dev/null

start_proxy "$MOTO_URL" --forward-checksums
for algorithm in crc32 crc32c sha1 sha256; do
  check "with --forward-checksums moto returns the client's $algorithm trailer checksum"
  out=$("$PYTHON" "$client" "$PROXY_URL" sums "on-$algorithm.bin" "$TEST_TMP/data.bin" "$algorithm")
  assert_eq "$(head -n1 <<<"$out")" 200 "upload with a $algorithm trailer: $out"
  want=$(expected_checksum "$algorithm")
  assert_eq "$(stored_checksums "$MOTO_URL" sums "on-$algorithm.bin")" "$want $want" "moto's $algorithm checksum"
done

check "with --forward-checksums a wrong trailing checksum is still refused and nothing is stored"
out=$("$PYTHON" "$client" "$PROXY_URL" sums bad.bin "$TEST_TMP/data.bin" sha256 corrupt)
assert_eq "$(head -n1 <<<"$out")" 400 "wrong checksum status: $out"
assert_contains "$out" "<Code>BadDigest</Code>" "wrong checksum error"
if AWS_ENDPOINT_URL_S3=$MOTO_URL aws s3api head-object --bucket sums --key bad.bin >/dev/null 2>&1; then
  fail "an upload with a wrong trailing checksum was stored by moto"
fi
stop_proxy

check "without the switch moto stores the bytes but no checksum"
start_proxy "$MOTO_URL"
out=$("$PYTHON" "$client" "$PROXY_URL" sums off.bin "$TEST_TMP/data.bin" crc32)
assert_eq "$(head -n1 <<<"$out")" 200 "upload without forwarding: $out"
assert_eq "$(stored_checksums "$MOTO_URL" sums off.bin)" "- -" "moto's checksum without forwarding"
stop_proxy

check "roar.toml proxy.forward_checksums reaches the job's proxy, which records the decoded size and BLAKE3"
need b3sum
new_project job
"$ROAR" proxy enable >/dev/null
"$ROAR" config set proxy.forward_checksums true >/dev/null
assert_eq "$("$ROAR" config get proxy.forward_checksums)" true "proxy.forward_checksums"
# The job names its proxy as the endpoint (ROAR_S3_PROXY): the re-signing path.
out=$(ROAR_UPSTREAM_S3_ENDPOINT=$MOTO_URL "$ROAR" run -q sh -c '"$0" "$1" "http://$ROAR_S3_PROXY" sums job.bin "$2" sha1' \
  "$PYTHON" "$client" "$TEST_TMP/data.bin")
assert_eq "$(head -n1 <<<"$out")" 200 "upload from the job: $out"
want=$(expected_checksum sha1)
assert_eq "$(stored_checksums "$MOTO_URL" sums job.bin)" "$want $want" "moto's checksum of the job's upload"
s3_out=$(show_json @1 | jq -c '.outputs[] | select(.path == "s3://sums/job.bin")')
[[ -n "$s3_out" ]] || fail "S3 output missing: $(show_json @1 | jq -c .outputs)"
assert_eq "$(jq -r .size <<<"$s3_out")" "$size" "recorded size (decoded bytes, not the re-framed body)"
assert_eq "$(jq -r .hashes.blake3 <<<"$s3_out")" "$(b3 "$TEST_TMP/data.bin")" "recorded BLAKE3"

check "roar.toml proxy.forward_checksums turns it on for 'roar proxy start'"
port=$(free_port)
"$ROAR" config set proxy.port "$port" >/dev/null
ROAR_UPSTREAM_S3_ENDPOINT=$MOTO_URL "$ROAR" proxy start >/dev/null
on_exit "'$ROAR' proxy stop >/dev/null 2>&1"
out=$("$PYTHON" "$client" "http://127.0.0.1:$port" sums daemon.bin "$TEST_TMP/data.bin" crc32c)
assert_eq "$(head -n1 <<<"$out")" 200 "upload through the daemon: $out"
want=$(expected_checksum crc32c)
assert_eq "$(stored_checksums "$MOTO_URL" sums daemon.bin)" "$want $want" "moto's checksum through the daemon"
"$ROAR" proxy stop >/dev/null

check "s3rver stores the decoded bytes with the switch off and the aws-chunked framing with it on"
start_s3rver plain
start_proxy "$S3RVER_URL"
out=$("$PYTHON" "$client" "$PROXY_URL" plain off.bin "$TEST_TMP/data.bin" crc32)
assert_eq "$(head -n1 <<<"$out")" 200 "upload to s3rver: $out"
cmp "$S3RVER_DIR/plain/off.bin._S3rver_object" "$TEST_TMP/data.bin" || fail "s3rver object differs (switch off)"
stop_proxy
start_proxy "$S3RVER_URL" --forward-checksums
out=$("$PYTHON" "$client" "$PROXY_URL" plain on.bin "$TEST_TMP/data.bin" crc32)
assert_eq "$(head -n1 <<<"$out")" 200 "upload to s3rver with forwarding: $out"
stored=$(stat -c %s "$S3RVER_DIR/plain/on.bin._S3rver_object")
((stored > size)) || fail "s3rver stored $stored bytes, expected the framing around $size"
stop_proxy
echo ok
