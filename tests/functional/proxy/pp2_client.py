#!/usr/bin/env python3
"""Plays a job's shim against roar-proxy: connects to the proxy, writes a
PROXY protocol v2 header (built here, independently of the C encoder)
naming the original destination, then one S3 request signed by botocore
with the credentials in the environment, and prints one JSON line: the
HTTP status, or "closed" when the proxy refused the connection.

    pp2_client.py PROXY_PORT DEST_IP DEST_PORT AUTHORITY SECRET PID METHOD PATH [BODY]
"""
import json
import socket
import struct
import sys

import botocore.auth
import botocore.awsrequest
import botocore.session

SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def header(dst_ip, dst_port, authority, secret, pid):
    tlvs = b""
    if authority:
        a = authority.encode()
        tlvs += struct.pack("!BH", 0x02, len(a)) + a
    if secret:
        s = secret.encode()
        tlvs += struct.pack("!BH", 0xE0, len(s)) + s
    tlvs += struct.pack("!BHI", 0xE1, 4, pid)
    body = socket.inet_aton("127.0.0.1") + socket.inet_aton(dst_ip) + struct.pack("!HH", 40000, dst_port) + tlvs
    return SIGNATURE + bytes([0x21, 0x11]) + struct.pack("!H", len(body)) + body


def signed_request(method, host, path, body):
    creds = botocore.session.get_session().get_credentials()
    req = botocore.awsrequest.AWSRequest(method=method, url=f"http://{host}{path}", data=body)
    req.headers["Host"] = host
    req.headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
    botocore.auth.S3SigV4Auth(creds, "s3", "us-east-1").add_auth(req)
    head = f"{method} {path} HTTP/1.1\r\n"
    for k, v in req.headers.items():
        head += f"{k}: {v}\r\n"
    head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    return head.encode() + body


def main():
    proxy_port, dst_ip, dst_port, authority, secret, pid, method, path = sys.argv[1:9]
    body = sys.argv[9].encode() if len(sys.argv) > 9 else b""
    host = f"{authority or dst_ip}:{dst_port}"
    s = socket.create_connection(("127.0.0.1", int(proxy_port)), timeout=20)
    s.sendall(header(dst_ip, int(dst_port), authority, secret, int(pid)) + signed_request(method, host, path, body))
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass
    if not data:
        print(json.dumps({"status": "closed"}))
        return
    status = int(data.split(b" ", 2)[1])
    print(json.dumps({"status": status, "body": data.split(b"\r\n\r\n", 1)[-1].decode(errors="replace")}))


main()
