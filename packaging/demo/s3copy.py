"""Copies between a local file and S3 (either side may be s3://bucket/key).

boto3 finds the endpoint in AWS_ENDPOINT_URL_S3, which `roar run` points at
its proxy when proxy.enabled is set; the script itself knows nothing of roar.
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
