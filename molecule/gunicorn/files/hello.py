"""WSGI app of the gunicorn scenario: tells which release answers and how it runs."""

import json
import os
import sys
import threading
import time
from urllib.parse import parse_qs

# The release this code was imported from: <root>/releases/<release>/site/hello.py.
RELEASE = os.path.basename(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))


def _write(path):
    try:
        with open(path, "w", encoding="utf-8") as stream:
            stream.write(RELEASE)
    except OSError as error:
        return f"{type(error).__name__}: {error.strerror}"
    return "ok"


def application(environ, start_response):
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if "sleep" in query:
        time.sleep(min(float(query["sleep"][0]), 5.0))
    body = {
        "release": RELEASE,
        "git_sha": os.environ.get("APP_GIT_SHA", ""),
        "greeting": os.environ.get("GREETING", ""),
        "quoted": os.environ.get("QUOTED", ""),
        "scheme": environ["wsgi.url_scheme"],
        "forwarded_proto": environ.get("HTTP_X_FORWARDED_PROTO", ""),
        "uid": os.getuid(),
        "pid": os.getpid(),
        "thread": threading.current_thread().name,
        "cwd": os.getcwd(),
        "prefix": sys.prefix,
        "written": _write(query["write"][0]) if "write" in query else "",
    }
    data = json.dumps(body).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]
