# Debian's python3-boto3 1.26 (/usr/bin/python3, endpoint_url=; sends a
# sha256 payload hash, Content-MD5 and Expect: 100-continue) through the
# proxy to moto with SigV4 checking: PUT, GET, ranged GET, list, delete.
source "$(dirname "$0")/lib_s3.sh"
/usr/bin/python3 -c 'import boto3' 2>/dev/null || skip "Debian python3-boto3 not installed"
start_moto
start_proxy "$MOTO_URL"
/usr/bin/python3 - "$PROXY_URL" <<'PY'
import os, sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1")
assert boto3.__version__.startswith("1.2"), boto3.__version__
s3.create_bucket(Bucket="debian-boto3")
data = os.urandom(9 * 1024 * 1024 + 1)
s3.put_object(Bucket="debian-boto3", Key="k/obj.bin", Body=data)
assert s3.get_object(Bucket="debian-boto3", Key="k/obj.bin")["Body"].read() == data
assert s3.get_object(Bucket="debian-boto3", Key="k/obj.bin", Range="bytes=5-9")["Body"].read() == data[5:10]
# (moto refuses an encoded '/' in the query even when signed right: no "k/" prefix)
assert [o["Key"] for o in s3.list_objects_v2(Bucket="debian-boto3", Prefix="k")["Contents"]] == ["k/obj.bin"]
# upload_file: multipart above 8 MiB with the transfer manager.
open("/dev/shm/roar-debian-boto3.bin", "wb").write(data)
try:
    s3.upload_file("/dev/shm/roar-debian-boto3.bin", "debian-boto3", "k/mpu.bin")
finally:
    os.unlink("/dev/shm/roar-debian-boto3.bin")
assert s3.get_object(Bucket="debian-boto3", Key="k/mpu.bin")["Body"].read() == data
assert s3.head_object(Bucket="debian-boto3", Key="k/mpu.bin")["ETag"].endswith('-2"')
s3.delete_objects(Bucket="debian-boto3", Delete={"Objects": [{"Key": "k/obj.bin"}, {"Key": "k/mpu.bin"}]})
assert s3.list_objects_v2(Bucket="debian-boto3").get("KeyCount") == 0
PY
stop_proxy
