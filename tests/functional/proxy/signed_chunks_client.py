"""A minimal independent STREAMING-AWS4-HMAC-SHA256-PAYLOAD uploader (what
minio-go and the Java SDK send), written from the S3 documentation, for
roar-proxy's functional tests. usage:
  signed_chunks_client.py URL BUCKET KEY FILE CHUNK_BYTES [tamper]
Prints the HTTP status and the response body."""
import datetime, hashlib, hmac, http.client, os, sys, urllib.parse

url, bucket, key, path, chunk = sys.argv[1:6]
tamper = len(sys.argv) > 6
chunk = int(chunk)
ak, sk = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
u = urllib.parse.urlparse(url)
data = open(path, "rb").read()
now = datetime.datetime.now(datetime.timezone.utc)
amz_date, date8 = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
scope = f"{date8}/us-east-1/s3/aws4_request"
sha = lambda b: hashlib.sha256(b).hexdigest()
h = lambda k, m: hmac.new(k, m.encode(), hashlib.sha256).digest()
skey = h(h(h(h(("AWS4" + sk).encode(), date8), "us-east-1"), "s3"), "aws4_request")

pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)] + [b""]
def frame_len(n):
    return len(f"{n:x}") + len(";chunk-signature=") + 64 + 2 + n + 2
body_len = sum(frame_len(len(p)) for p in pieces)
path_enc = urllib.parse.quote(f"/{bucket}/{key}", safe="/~")
headers = {
    "host": u.netloc, "x-amz-date": amz_date, "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data)),
    "content-length": str(body_len),
}
names = sorted(headers)
creq = "\n".join(["PUT", path_enc, "", *[f"{n}:{headers[n]}" for n in names], "", ";".join(names),
                  "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"])
sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, sha(creq.encode())])
seed = hmac.new(skey, sts.encode(), hashlib.sha256).hexdigest()
headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={ak}/{scope}, SignedHeaders={';'.join(names)}, "
                            f"Signature={seed}")
body, prev = b"", seed
for i, p in enumerate(pieces):
    csts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, prev, sha(b""), sha(p)])
    sig = hmac.new(skey, csts.encode(), hashlib.sha256).hexdigest()
    if tamper and i == 1:
        p = bytes([p[0] ^ 1]) + p[1:]
    body += f"{len(p):x};chunk-signature={sig}\r\n".encode() + p + b"\r\n"
    prev = sig
assert len(body) == body_len
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
conn.request("PUT", path_enc, body=body, headers=headers)
r = conn.getresponse()
print(r.status)
print(r.read().decode(errors="replace"))
