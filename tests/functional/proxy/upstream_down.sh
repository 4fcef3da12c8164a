# With the upstream unreachable the proxy answers 503 ServiceUnavailable as
# an S3 XML error with a request id (and stays healthy); a slow client
# still gets a clean answer; the proxy keeps serving afterwards.
source "$(dirname "$0")/lib_s3.sh"
dead=$(free_port) # nothing listens here
export AWS_ACCESS_KEY_ID=AKIAROARTEST AWS_SECRET_ACCESS_KEY=secret
start_proxy "http://127.0.0.1:$dead"
for method in GET PUT; do
  args=()
  [[ $method == PUT ]] && args=(-T /etc/hostname)
  status=$(curl -sS -o "$TEST_TMP/body.xml" -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:s3" \
    --user AKIAROARTEST:secret -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "${args[@]}" "$PROXY_URL/bucket/key")
  assert_eq "$status" 503 "$method status with upstream down: $(cat "$TEST_TMP/body.xml")"
  body=$(cat "$TEST_TMP/body.xml")
  assert_contains "$body" "<Code>ServiceUnavailable</Code>" "$method error code"
  assert_contains "$body" "<RequestId>" "$method request id"
done
python3 - "$PROXY_URL" <<'PY'
import sys, boto3, botocore
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], config=Config(retries={"max_attempts": 1, "mode": "standard"}))
try:
    s3.get_object(Bucket="bucket", Key="key")
    raise SystemExit("GET succeeded with the upstream down")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "ServiceUnavailable", e.response
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 503
PY
assert_eq "$(curl -fsS "$PROXY_URL/_roar/health")" ok "health after upstream failures"
errors=$(metric roar_proxy_upstream_errors_total)
((errors >= 3)) || fail "upstream_errors_total is $errors"
stop_proxy
