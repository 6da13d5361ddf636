"""Wait until a service's main process and every child of it run in a directory.

Run by the host's python3 after a reload or restart: wait_for_release.py SERVICE DIRECTORY TIMEOUT.
DIRECTORY is resolved (it is the `current` symlink); exits 0 once the master and all its workers
have it as their working directory, 1 with the processes still elsewhere after TIMEOUT seconds.
"""

import glob
import os
import subprocess
import sys
import time


def _main_pid(service: str) -> int:
    shown = subprocess.run(
        ["systemctl", "show", "--property=MainPID", "--value", service], capture_output=True, text=True, check=False
    )
    return int(shown.stdout.strip() or 0)


def _children(pid: int) -> list[int]:
    children = []
    for path in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            with open(path, encoding="ascii") as stream:
                children += [int(child) for child in stream.read().split()]
        except OSError:
            continue
    return children


def _elsewhere(service: str, target: str) -> list[str]:
    """The processes of the service not running in target: "<pid> in <directory>"."""
    pid = _main_pid(service)
    if pid <= 0:
        return [f"{service} has no main process"]
    wrong = []
    for process in [pid, *_children(pid)]:
        try:
            cwd = os.path.realpath(f"/proc/{process}/cwd", strict=True)
        except OSError:
            # A worker that exited meanwhile; its replacement forks from the master's directory.
            if process == pid:
                wrong.append(f"{process} exited")
            continue
        if cwd != target:
            wrong.append(f"{process} in {cwd}")
    return wrong


def main(argv: list[str]) -> int:
    service, directory, timeout = argv
    deadline = time.monotonic() + float(timeout)
    while True:
        target = os.path.realpath(directory, strict=True)
        wrong = _elsewhere(service, target)
        if not wrong:
            return 0
        if time.monotonic() >= deadline:
            print(f"{service} does not run {target} after {timeout} s: {', '.join(wrong)}", file=sys.stderr)
            return 1
        time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
