"""Copies between a local file and S3 (either side may be s3://bucket/key).

boto3 finds the S3 endpoint where it always does (AWS_ENDPOINT_URL_S3 in the
demo); with proxy.enabled set, `roar run`'s shim routes those connections
through the job's proxy. The script itself knows nothing of roar.
"""
import sys

import boto3


def split(uri):
    bucket, _, key = uri[len("s3://"):].partition("/")
    return bucket, key


src, dst = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3")
if src.startswith("s3://"):
    bucket, key = split(src)
    with open(dst, "wb") as f:
        f.write(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
else:
    bucket, key = split(dst)
    with open(src, "rb") as f:
        s3.put_object(Bucket=bucket, Key=key, Body=f.read())
