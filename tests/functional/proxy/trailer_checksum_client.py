"""A minimal STREAMING-UNSIGNED-PAYLOAD-TRAILER uploader (what the JS SDK
and boto3 over https send), written from the S3 documentation, for
roar-proxy's functional tests. usage:
  trailer_checksum_client.py URL BUCKET KEY FILE ALGORITHM [corrupt|no-terminal|print]
ALGORITHM: crc32, crc32c, sha1 or sha256 (crc32c needs no library: it is
computed here bit by bit). Prints the HTTP status and the response body;
with `print`, only the checksum it would send (URL, BUCKET, KEY unused)."""
import base64, datetime, hashlib, hmac, http.client, os, sys, urllib.parse, zlib

url, bucket, key, path, algorithm = sys.argv[1:6]
mode = sys.argv[6] if len(sys.argv) > 6 else ""
ak, sk = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
u = urllib.parse.urlparse(url)
data = open(path, "rb").read()


def crc32c(b):
    crc = 0xFFFFFFFF
    for byte in b:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


digest = {
    "crc32": lambda b: zlib.crc32(b).to_bytes(4, "big"),
    "crc32c": lambda b: crc32c(b).to_bytes(4, "big"),
    "sha1": lambda b: hashlib.sha1(b).digest(),
    "sha256": lambda b: hashlib.sha256(b).digest(),
}[algorithm]
checksum = base64.b64encode(digest(data + (b"x" if mode == "corrupt" else b""))).decode()
trailer = f"x-amz-checksum-{algorithm}"
if mode == "print":
    print(checksum)
    sys.exit(0)

body = b""
for i in range(0, len(data), 65536):
    piece = data[i:i + 65536]
    body += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
if mode != "no-terminal":
    body += f"0\r\n{trailer}:{checksum}\r\n\r\n".encode()

now = datetime.datetime.now(datetime.timezone.utc)
amz_date, date8 = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
scope = f"{date8}/us-east-1/s3/aws4_request"
sha = lambda b: hashlib.sha256(b).hexdigest()
h = lambda k, m: hmac.new(k, m.encode(), hashlib.sha256).digest()
skey = h(h(h(h(("AWS4" + sk).encode(), date8), "us-east-1"), "s3"), "aws4_request")
path_enc = urllib.parse.quote(f"/{bucket}/{key}", safe="/~")
headers = {
    "host": u.netloc, "x-amz-date": amz_date, "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    "content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data)),
    "content-length": str(len(body)), "x-amz-trailer": trailer,
    "x-amz-sdk-checksum-algorithm": algorithm.upper(),
}
names = sorted(headers)
creq = "\n".join(["PUT", path_enc, "", *[f"{n}:{headers[n]}" for n in names], "", ";".join(names),
                  "STREAMING-UNSIGNED-PAYLOAD-TRAILER"])
sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, sha(creq.encode())])
sig = hmac.new(skey, sts.encode(), hashlib.sha256).hexdigest()
headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={ak}/{scope}, SignedHeaders={';'.join(names)}, "
                            f"Signature={sig}")
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
conn.request("PUT", path_enc, body=body, headers=headers)
r = conn.getresponse()
print(r.status)
print(r.read().decode(errors="replace"))
