"""A scripted S3 upstream for the fault suite: the object key says how it
misbehaves. Usage: broken_upstream.py PORT LOG

  ok              200 with "hello\\n" (GET) or 200 with an ETag (PUT)
  reset           reads the request, then resets the connection (RST)
  garbage         answers bytes that are not HTTP, then closes
  bad-length      200 with Content-Length: abc
  two-lengths     200 with two different Content-Length headers
  stall           reads the request and never answers (until the client goes)
  reset-mid-body  Content-Length 1 MiB, 64 KiB of it, then RST
  stall-mid-body  Content-Length 1 MiB, 64 KiB of it, then nothing
  big             GET: 64 MiB of body, sent as fast as the reader takes it

Every PUT it receives is logged to LOG as "PUT key BYTES complete" or
"PUT key BYTES incomplete" (the body ended before its Content-Length, or a
chunked body without its last chunk), so a test can tell whether an
abandoned upload could have been stored upstream.
"""
import socket
import struct
import sys
import threading
import time

PORT, LOG = int(sys.argv[1]), sys.argv[2]
log_lock = threading.Lock()


def log(line):
    with log_lock, open(LOG, "a") as f:
        f.write(line + "\n")


def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    return head.decode("latin-1"), rest


def reset(conn):
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def read_body(conn, head, rest):
    """Reads a PUT body (Content-Length or chunked); returns (bytes, complete)."""
    headers = {}
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        data = rest
        while not data.endswith(b"0\r\n\r\n"):
            chunk = conn.recv(65536)
            if not chunk:
                return len(data), False
            data += chunk
        return len(data), True
    declared = int(headers.get("content-length", "0") or 0)
    received = len(rest)
    while received < declared:
        chunk = conn.recv(65536)
        if not chunk:
            return received, False
        received += len(chunk)
    return received, True


def serve(conn):
    try:
        while True:
            head, rest = read_head(conn)
            if head is None:
                return
            method, target = head.split(" ")[0:2]
            key = target.split("?")[0].rsplit("/", 1)[-1]
            if method == "PUT":
                received, complete = read_body(conn, head, rest)
                log(f"PUT {key} {received} {'complete' if complete else 'incomplete'}")
                if not complete:
                    return
            if key == "reset":
                reset(conn)
                return
            if key == "garbage":
                conn.sendall(b"\x00\xff\xfeTHIS IS NOT HTTP\r\n\r\n\x01\x02")
                conn.close()
                return
            if key == "bad-length":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\nETag: \"x\"\r\n\r\nhello\n")
                conn.close()
                return
            if key == "two-lengths":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nContent-Length: 60\r\nETag: \"x\"\r\n\r\nhello\n")
                conn.close()
                return
            if key == "stall":
                conn.settimeout(None)
                while conn.recv(65536):
                    pass
                return
            if key in ("reset-mid-body", "stall-mid-body"):
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\nETag: \"m\"\r\n\r\n" + b"m" * 65536)
                if key == "reset-mid-body":
                    time.sleep(0.2)
                    reset(conn)
                    return
                while conn.recv(65536):
                    pass
                return
            if key == "big" and method == "GET":
                size = 64 << 20
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nETag: \"big\"\r\n\r\n" % size)
                block = b"b" * (1 << 20)
                for _ in range(size >> 20):
                    conn.sendall(block)
                continue
            body = b"hello\n" if method == "GET" else b""
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nETag: \"5a8dd3ad0756a93ded72b823b19dd877\"\r\n\r\n"
                         % len(body) + body)
    except OSError:
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass


server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", PORT))
server.listen(64)
while True:
    c, _ = server.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
