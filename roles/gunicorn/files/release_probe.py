"""What the host and a release provide to gunicorn, as one JSON object on stdout.

Run by the host's python3: release_probe.py USER GROUP SOCKET_GROUP WORKDIR VENV SERVICE [WRITABLE_PATH ...].
Reads only; the role's assertion turns the answer into messages that name the variable to fix. It also tells
the real path of WORKDIR and the one SERVICE's main process runs in ("" when the service is not active): a
release the running master already serves needs no import check when nothing else changes.
"""

import grp
import json
import os
import pwd
import subprocess
import sys
from collections.abc import Callable


def _missing(lookup: Callable[[str], object], name: str) -> bool:
    try:
        lookup(name)
    except KeyError:
        return True
    return False


def _gunicorn_version(python: str) -> str:
    """gunicorn's version in the virtualenv of `python`, "" when it does not import."""
    found = subprocess.run(
        [python, "-c", "import gunicorn; print(gunicorn.__version__)"], capture_output=True, text=True, check=False
    )
    return found.stdout.strip() if found.returncode == 0 else ""


def _running_workdir(service: str) -> str:
    """The real path of the working directory of the service's main process, "" when it is not active."""
    shown = subprocess.run(
        ["systemctl", "show", "--property=ActiveState,MainPID", service], capture_output=True, text=True, check=False
    )
    properties = dict(line.split("=", 1) for line in shown.stdout.splitlines() if "=" in line)
    pid = int(properties.get("MainPID") or 0)
    if properties.get("ActiveState") != "active" or pid <= 0:
        return ""
    try:
        return os.path.realpath(f"/proc/{pid}/cwd", strict=True)
    except OSError:
        return ""


def main(argv: list[str]) -> None:
    user, group, socket_group, workdir, venv, service, *writable = argv
    python = os.path.join(venv, "bin", "python")
    runnable = os.access(python, os.X_OK)
    accounts = [(user, pwd.getpwnam), (group, grp.getgrnam), (socket_group, grp.getgrnam)]
    print(
        json.dumps(
            {
                "missing_accounts": [name for name, lookup in accounts if _missing(lookup, name)],
                "workdir": os.path.isdir(workdir),
                "python": runnable,
                "gunicorn_version": _gunicorn_version(python) if runnable else "",
                "missing_paths": [path for path in writable if not os.path.isdir(path)],
                "workdir_real": os.path.realpath(workdir),
                "running_workdir": _running_workdir(service),
            }
        )
    )


main(sys.argv[1:])
