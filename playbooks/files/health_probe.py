"""Request the site's health endpoint from Gunicorn on this host; print the answer as one JSON object.

Run by the host's python3 over raw (playbooks/tasks/health-check.yml):
  health_probe.py URL SOCKET HOST RETRIES DELAY
URL is http://<host>[:<port>]<path>; SOCKET the unix socket to connect to ("" for the URL's host and port); HOST
the Host header (X-Forwarded-Proto is https, as nginx sends it). Asked again while Gunicorn does not answer yet
(no connection, 502, 503, 504), at most RETRIES more times, DELAY seconds apart; any other status is the release's
own answer. Prints {"status": <int, -1 without an answer>, "content": <str>, "msg": <the error, "" without one>,
"attempts": <int>}. Reads only.
"""

import http.client
import json
import socket
import sys
import time
from urllib.parse import urlsplit

TIMEOUT = 30


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def request(url: str, unix_socket: str, host: str) -> tuple[int, str, str]:
    parts = urlsplit(url)
    if unix_socket:
        connection = UnixConnection(unix_socket, TIMEOUT)
    else:
        connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=TIMEOUT)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("GET", path, headers={"Host": host, "X-Forwarded-Proto": "https"})
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace"), ""
    except (OSError, http.client.HTTPException) as error:
        return -1, "", f"{type(error).__name__}: {error}"
    finally:
        connection.close()


def main(argv: list[str]) -> dict:
    url, unix_socket, host, retries, delay = argv[1], argv[2], argv[3], int(argv[4]), float(argv[5])
    attempt = 0
    while True:
        attempt += 1
        status, content, msg = request(url, unix_socket, host)
        if status not in (-1, 502, 503, 504) or attempt > retries:
            return {"status": status, "content": content, "msg": msg, "attempts": attempt}
        time.sleep(delay)


if __name__ == "__main__":
    print(json.dumps(main(sys.argv)))
