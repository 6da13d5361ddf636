"""The site's health request (playbooks/files/health_probe.py), run as playbooks/tasks/health-check.yml runs it
(python3 -c SCRIPT URL SOCKET HOST RETRIES DELAY), against a small HTTP server on a unix socket or a TCP port."""

import json
import socketserver
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

SCRIPT = (Path(__file__).resolve().parent.parent / "playbooks" / "files" / "health_probe.py").read_text()


class Handler(BaseHTTPRequestHandler):
    """Answers each request with the next (status, body) of the server's list; records the headers it got."""

    def do_GET(self):
        server = self.server
        status, body = server.answers[min(len(server.seen), len(server.answers) - 1)]
        server.seen.append(
            {"path": self.path, "host": self.headers["Host"], "proto": self.headers["X-Forwarded-Proto"]}
        )
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def address_string(self):
        return "test"

    def log_message(self, *args):
        pass


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class TCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True


def serve(server_class, address, answers):
    server = server_class(address, Handler)
    server.answers, server.seen = answers, []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def probe(url, unix_socket="", host="shop.example.org", retries=3, delay=0.05):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, url, unix_socket, host, str(retries), str(delay)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(done.stdout.splitlines()[-1])


@pytest.fixture
def unix_server(tmp_path):
    servers = []

    def start(answers):
        server = serve(UnixServer, str(tmp_path / "gunicorn.sock"), answers)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_an_answer_through_the_socket_with_the_site_headers(unix_server, tmp_path):
    server = unix_server([(200, '{"status": "ok", "git_sha": "abc"}')])
    found = probe("http://localhost/healthz?full=1", str(tmp_path / "gunicorn.sock"))
    assert found == {"status": 200, "content": '{"status": "ok", "git_sha": "abc"}', "msg": "", "attempts": 1}
    assert server.seen == [{"path": "/healthz?full=1", "host": "shop.example.org", "proto": "https"}]


def test_gunicorn_not_ready_is_asked_again(unix_server, tmp_path):
    server = unix_server([(502, "bad gateway"), (503, "busy"), (200, "ok")])
    found = probe("http://localhost/healthz", str(tmp_path / "gunicorn.sock"))
    assert (found["status"], found["content"], found["attempts"]) == (200, "ok", 3)
    assert len(server.seen) == 3


def test_the_release_s_own_error_is_not_asked_again(unix_server, tmp_path):
    server = unix_server([(500, "broken"), (200, "ok")])
    found = probe("http://localhost/healthz", str(tmp_path / "gunicorn.sock"))
    assert (found["status"], found["content"], found["attempts"]) == (500, "broken", 1)
    assert len(server.seen) == 1


def test_no_answer_after_the_retries(tmp_path):
    found = probe("http://localhost/healthz", str(tmp_path / "nothing.sock"), retries=2)
    assert (found["status"], found["content"], found["attempts"]) == (-1, "", 3)
    assert "FileNotFoundError" in found["msg"]


def test_a_tcp_port():
    server = serve(TCPServer, ("127.0.0.1", 0), [(200, "ok")])
    try:
        found = probe(f"http://127.0.0.1:{server.server_address[1]}/healthz")
    finally:
        server.shutdown()
        server.server_close()
    assert (found["status"], found["content"]) == (200, "ok")
    assert server.seen[0]["host"] == "shop.example.org"
