# aws-chunked bodies on a redirected connection (under `roar run`) pass
# through undecoded to moto_server, which decodes them, while the proxy
# hashes a decoded copy: the S3 output gets the BLAKE3 and the size of the
# file (not of its framing), for signed chunks and for unsigned chunks
# with a trailing checksum.
source "$(dirname "$0")/lib_s3.sh"
need b3sum
"$ROAR" proxy --help >/dev/null 2>&1 || skip "'roar proxy' is not wired into the CLI yet"
start_moto
export ROAR_UPSTREAM_S3_ENDPOINT=$MOTO_URL
new_project
"$ROAR" proxy enable >/dev/null
dir=$(cd "$(dirname "$0")" && pwd)

head -c 300000 /dev/urandom >"$TEST_TMP/in.bin"
want=$(b3 "$TEST_TMP/in.bin")
python3 -c 'import sys, boto3; boto3.client("s3", endpoint_url=sys.argv[1]).create_bucket(Bucket="chunks")' "$MOTO_URL"

# stored_b3 KEY: the BLAKE3 of the object as moto stored it.
stored_b3() {
  python3 -c 'import sys, boto3; sys.stdout.buffer.write(boto3.client("s3", endpoint_url=sys.argv[1]).get_object(
    Bucket="chunks", Key=sys.argv[2])["Body"].read())' "$MOTO_URL" "$1" >"$TEST_TMP/back.bin"
  b3 "$TEST_TMP/back.bin"
}

# output_size JOB KEY: the size the job recorded for s3://chunks/KEY.
output_size() {
  show_json "$1" | jq -r --arg p "s3://chunks/$2" '.outputs[] | select(.path == $p) | .size // "none"'
}

# output_b3 JOB KEY: the BLAKE3 the job recorded for s3://chunks/KEY.
output_b3() {
  show_json "$1" | jq -r --arg p "s3://chunks/$2" '.outputs[] | select(.path == $p) | .hashes.blake3 // "none"'
}

check "a signed aws-chunked PutObject passes through and records the BLAKE3 of its decoded body"
out=$("$ROAR" run -q python3 "$dir/signed_chunks_client.py" "$MOTO_URL" chunks signed.bin "$TEST_TMP/in.bin" 65536)
[[ "$out" == 200* ]] || fail "upload answered: $out"
assert_eq "$(stored_b3 signed.bin)" "$want" "stored object"
assert_eq "$(output_b3 @1 signed.bin)" "$want" "recorded BLAKE3"
check "a signed aws-chunked PutObject records the decoded size, not the framed one"
assert_eq "$(output_size @1 signed.bin)" 300000 "recorded size"

check "an unsigned aws-chunked PutObject with a trailing CRC32 records the BLAKE3 of its decoded body"
out=$("$ROAR" run -q python3 "$dir/trailer_checksum_client.py" "$MOTO_URL" chunks trailer.bin "$TEST_TMP/in.bin" crc32)
[[ "$out" == 200* ]] || fail "upload answered: $out"
assert_eq "$(stored_b3 trailer.bin)" "$want" "stored object"
assert_eq "$(output_b3 @2 trailer.bin)" "$want" "recorded BLAKE3"
check "an unsigned aws-chunked PutObject with a trailer records the decoded size"
assert_eq "$(output_size @2 trailer.bin)" 300000 "recorded size"
echo ok
