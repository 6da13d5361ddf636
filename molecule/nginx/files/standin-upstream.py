#!/usr/bin/python3
"""Stand-in for Gunicorn: answers every request with a JSON echo of its method, path and headers.

Usage: standin-upstream unix:/run/demo/gunicorn.sock   or   standin-upstream 127.0.0.1:8001
A unix socket is made 0660 root:www-data, as the gunicorn role's socket is (nginx's group may connect).
"""

import grp
import json
import os
import socketserver
import sys
from http.server import BaseHTTPRequestHandler


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        headers: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        echo = {"upstream": sys.argv[1], "method": self.command, "path": self.path, "headers": headers}
        body = json.dumps(echo)
        data = (body + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's signature
        sys.stderr.write(f"{self.requestline}\n")


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class TCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main() -> None:
    where = sys.argv[1]
    if where.startswith("unix:"):
        path = where.removeprefix("unix:")
        if os.path.exists(path):
            os.unlink(path)
        server = UnixServer(path, Echo)
        os.chown(path, 0, grp.getgrnam("www-data").gr_gid)
        os.chmod(path, 0o660)
    else:
        host, port = where.rsplit(":", 1)
        server = TCPServer((host, int(port)), Echo)
    server.serve_forever()


if __name__ == "__main__":
    main()
