"""What `reload` needs to know about the running service, as one JSON object on stdout.

Run by the host's python3: master_probe.py SERVICE WORKDIR VENV. WORKDIR is the current release's working
directory and VENV its virtualenv (through the `current` link). Reports whether the service is active and
the real paths of the master's working directory, of WORKDIR, of VENV and of the
virtualenv the master runs from (argv[0] is <venv>/bin/python3 unless setproctitle renamed it; "" then).
Reads only.
"""

import json
import os
import re
import subprocess
import sys


def main(service: str, workdir: str, venv: str) -> dict:
    shown = subprocess.run(
        ["systemctl", "show", "--property=ActiveState,MainPID", service], capture_output=True, text=True, check=True
    )
    properties = dict(line.split("=", 1) for line in shown.stdout.splitlines() if "=" in line)
    pid = int(properties.get("MainPID") or 0)
    found = {
        "active": properties.get("ActiveState") == "active",
        "workdir": os.path.realpath(workdir),
        "venv": os.path.realpath(venv),
        "master_workdir": "",
        "master_venv": "",
    }
    if found["active"] and pid > 0:
        try:
            found["master_workdir"] = os.path.realpath(f"/proc/{pid}/cwd", strict=True)
            with open(f"/proc/{pid}/cmdline", "rb") as stream:
                argv0 = stream.read().split(b"\0")[0].decode()
        except OSError:
            argv0 = ""
        if re.search(r"/bin/python[0-9.]*$", argv0):
            found["master_venv"] = os.path.realpath(os.path.dirname(os.path.dirname(argv0)))
    return found


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
