"""A deliberately simple or broken S3 upstream for roar-proxy's functional
tests, on 127.0.0.1. usage: fake_upstream.py MODE PORT LOG
Modes:
  record     reads each request's body up to its Content-Length and logs, as
             one JSON line per request, how it ended: "complete" (all bytes),
             "fin" (the proxy closed cleanly before the end: an upstream that
             does not enforce Content-Length would store a truncated object)
             or "reset" (the connection was reset); answers 200 when complete.
  bad-etag   answers every request 200 with ETag and XML <ETag> values that
             are malformed character references.
  bad-length answers every request 200 with a non-numeric Content-Length.
  bad-status answers every request with a garbage status line."""
import json, socket, socketserver, sys

mode, port, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def read_head(f):
    lines = []
    while True:
        line = f.readline(65537)
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            return lines
        lines.append(line.decode("latin-1").rstrip("\r\n"))


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        while True:
            try:
                head = read_head(self.rfile)
            except ConnectionResetError:
                return
            if not head:
                return
            fields = {}
            for l in head[1:]:
                k, _, v = l.partition(":")
                fields[k.strip().lower()] = v.strip()
            length = int(fields.get("content-length", "0"))
            method = head[0].split(" ")[0]
            if mode == "record":
                got, end = 0, "complete"
                try:
                    while got < length:
                        b = self.rfile.read1(min(65536, length - got))
                        if not b:
                            end = "fin"
                            break
                        got += len(b)
                except ConnectionResetError:
                    end = "reset"
                with open(log, "a") as out:
                    out.write(json.dumps({"method": method, "declared": length, "received": got, "end": end}) + "\n")
                if end != "complete":
                    return
                self.wfile.write(b'HTTP/1.1 200 OK\r\nETag: "e1"\r\nContent-Length: 0\r\n\r\n')
                continue
            self.rfile.read(length)
            if mode == "bad-etag":
                body = b"<CopyObjectResult><ETag>&#x;</ETag></CopyObjectResult>"
                self.wfile.write(b'HTTP/1.1 200 OK\r\nETag: "&#x;"\r\nContent-Type: application/xml\r\n'
                                 b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            elif mode == "bad-length":
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nhello")
                return
            elif mode == "bad-status":
                self.wfile.write(b"HTTP/1.1 2x0 Strange\r\nContent-Length: 0\r\n\r\n")
                return


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


Server(("127.0.0.1", port), Handler).serve_forever()
