#!/usr/bin/env python3
"""A stand-in for the job proxy's side of S3 routing, for the shim's tests.

Listens on 127.0.0.1 (port chosen by the kernel, written to --port-file),
reads the PROXY protocol v2 header every redirected connection starts with,
parses it on its own (independently of the C decoder under test), checks
the job secret, logs one JSON line per connection to --log (and one more
with the first request line, keyed by the same "id"), and then relays the
connection's bytes to --upstream (moto) in both directions. A
connection whose header is missing, malformed or carries another secret is
logged with "error" and closed.

    pp2_receiver.py --port-file F --log F --upstream 127.0.0.1:PORT --secret HEX
"""
import argparse
import json
import os
import socket
import struct
import sys
import threading

SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
LOCK = threading.Lock()


def log(path, entry):
    with LOCK, open(path, "a") as f:
        f.write(json.dumps(entry, sort_keys=True) + "\n")


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ValueError(f"connection closed after {len(data)} of {n} header bytes")
        data += chunk
    return data


def parse_header(sock):
    fixed = recv_exact(sock, 16)
    if fixed[:12] != SIGNATURE:
        raise ValueError("no PROXY v2 signature")
    ver_cmd, fam, length = fixed[12], fixed[13], struct.unpack("!H", fixed[14:16])[0]
    if ver_cmd != 0x21:
        raise ValueError(f"ver_cmd {ver_cmd:#x}")
    if fam not in (0x11, 0x21):
        raise ValueError(f"family {fam:#x}")
    body = recv_exact(sock, length)
    alen = 4 if fam == 0x11 else 16
    af = socket.AF_INET if fam == 0x11 else socket.AF_INET6
    src = socket.inet_ntop(af, body[:alen])
    dst = socket.inet_ntop(af, body[alen:2 * alen])
    sport, dport = struct.unpack("!HH", body[2 * alen:2 * alen + 4])
    tlvs = {}
    pos = 2 * alen + 4
    while pos < len(body):
        if len(body) - pos < 3:
            raise ValueError("truncated TLV")
        t = body[pos]
        n = struct.unpack("!H", body[pos + 1:pos + 3])[0]
        value = body[pos + 3:pos + 3 + n]
        if len(value) != n:
            raise ValueError("TLV past the end")
        if t in tlvs:
            raise ValueError(f"TLV {t:#x} twice")
        tlvs[t] = value
        pos += 3 + n
    entry = {
        "family": 4 if fam == 0x11 else 6,
        "src": f"{src}:{sport}",
        "dst": f"{dst}:{dport}",
        "dst_ip": dst,
        "dst_port": dport,
    }
    if 0x02 in tlvs:
        entry["authority"] = tlvs[0x02].decode("ascii")
    if 0xE1 in tlvs:
        if len(tlvs[0xE1]) != 4:
            raise ValueError("pid TLV size")
        entry["pid"] = struct.unpack("!I", tlvs[0xE1])[0]
    if 0xE2 in tlvs:
        entry["flags"] = tlvs[0xE2][0]
    return entry, tlvs.get(0xE0, b"").decode("ascii", "replace")


def pump(src, dst, on_first=None):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if on_first is not None:
                on_first(data.split(b"\r\n", 1)[0].decode("latin-1"))
                on_first = None
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


COUNTER = [0]


def serve(conn, args):
    with LOCK:
        COUNTER[0] += 1
        cid = COUNTER[0]
    try:
        entry, secret = parse_header(conn)
    except ValueError as e:
        log(args.log, {"id": cid, "error": str(e)})
        conn.close()
        return
    entry["id"] = cid
    if secret != args.secret:
        log(args.log, {"error": "wrong or missing secret", **entry})
        conn.close()
        return
    host, port = args.upstream.rsplit(":", 1)
    try:
        up = socket.create_connection((host, int(port)))
    except OSError as e:
        log(args.log, {"error": f"upstream: {e}", **entry})
        conn.close()
        return
    # Logged before any byte is relayed, so the client cannot finish first.
    log(args.log, entry)
    t = threading.Thread(target=pump, args=(up, conn), daemon=True)
    t.start()
    pump(conn, up, lambda line: log(args.log, {"id": cid, "first_line": line}))
    t.join()
    conn.close()
    up.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--secret", required=True)
    args = ap.parse_args()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.getsockname()[1]))
    os.replace(args.port_file + ".tmp", args.port_file)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, args), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
