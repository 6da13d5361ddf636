#!/usr/bin/python
"""Reload or restart a systemd service, then wait until its main process and every child run in a directory."""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time

try:
    from ansible.module_utils.basic import AnsibleModule
except ImportError:  # run as a script by the host's python3, which has no Ansible (ScriptHost)
    AnsibleModule = None

DOCUMENTATION = r"""
---
module: service_release
short_description: Reload or restart a service for a new release and wait until all its processes run it
description:
  - Reloads (C(systemctl reload), a HUP for Gunicorn) or restarts a systemd service, then waits until its main
    process and every child of it have the real path of I(directory) as their working directory; a
    pre-forking server such as Gunicorn replaces its workers after a reload, and this returns once the last
    old worker is gone.
  - One call for what C(ansible.builtin.systemd_service) and a wait would take two, over a connection each.
  - With I(action=auto) it first reads the running service and decides by itself (nothing when the service is
    not active or already runs I(directory) from I(venv); a restart when its main process runs another
    virtualenv; else a reload), so a deploy reads and reloads in one call.
  - In check mode it reports the change and does nothing (I(action=auto) reads the service and decides first).
  - The file also runs as a script with the host's python3 and the options as one JSON object (with
    C(check_mode)), for a call over M(ansible.builtin.raw) without a module around it (gunicorn's reload on
    every run). Given the file's text and that object (C(python3 -c <text> <object>)), it prints the same
    answer as JSON.
version_added: "1.0.0"
author: djangoops
options:
  name:
    description: The systemd service, with its suffix (C(notes.service)).
    type: str
    required: true
  directory:
    description:
      - The directory the processes must run in once the service has reloaded, usually a symlink such as
        C(/srv/notes/current); its real path is compared with each process's working directory.
    type: path
    required: true
  action:
    description:
      - C(reload) keeps the main process (Gunicorn re-execs its workers), C(restart) replaces it.
      - C(auto) decides from the running service, see the description; the answer names the action (C(action)).
    type: str
    choices: [reload, restart, auto]
    default: reload
  venv:
    description:
      - With I(action=auto), the virtualenv of the release (usually through the C(current) link); a main process
        whose interpreter is not under its real path is restarted.
    type: path
  force:
    description: With I(action=auto), reload a running service that already runs I(directory) (e.g. for new settings).
    type: bool
    default: false
  checked:
    description:
      - With I(action=auto), the real path of a release directory the caller has already checked (e.g. that its
        app imports). When the decided action would make the service run another directory, the module does
        nothing and answers C(pending_check), so that the caller checks that release first and calls again
        with the action. "" (the default) never matches.
    type: str
    default: ""
  timeout:
    description: Seconds to wait for the processes; the module fails naming those still elsewhere.
    type: int
    default: 60
"""

EXAMPLES = r"""
- name: Reload Gunicorn for the release current points at
  djangoops.django.service_release:
    name: notes.service
    directory: /srv/notes/current
    timeout: 45

- name: Reload or restart Gunicorn when it runs another release than current, whose import was checked
  djangoops.django.service_release:
    name: notes.service
    directory: /srv/notes/current
    venv: /srv/notes/current/.venv
    action: auto
    checked: /srv/notes/releases/20260101000000-0123456789ab
"""

RETURN = r"""
action:
  description: The action taken or, in check mode, that would be taken (C(none), C(reload) or C(restart)).
  returned: with I(action=auto)
  type: str
active:
  description: Whether the service was active when the module read it.
  returned: with I(action=auto)
  type: bool
pending_check:
  description:
    - True when I(action) was decided but not taken, the service would run another directory than I(checked).
  returned: with I(action=auto)
  type: bool
directory:
  description: The real path of I(directory) that the processes run in.
  returned: success, when the service was reloaded or restarted (not in check mode)
  type: str
main_pid:
  description: The service's main process once all its processes run in I(directory).
  returned: success, when the service was reloaded or restarted (not in check mode)
  type: int
"""


def main_pid(module, systemctl: str, service: str) -> int:
    rc, out, _err = module.run_command([systemctl, "show", "--property=MainPID", "--value", service])
    return int(out.strip() or 0) if rc == 0 else 0


def children(pid: int) -> list:
    found = []
    for path in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            with open(path, encoding="ascii") as stream:
                found += [int(child) for child in stream.read().split()]
        except OSError:
            continue
    return found


def elsewhere(pid: int, target: str) -> list:
    """The processes of the tree at pid not running in target: "<pid> in <directory>"."""
    if pid <= 0:
        return ["no main process"]
    wrong = []
    for process in [pid, *children(pid)]:
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


def wait_for(module, systemctl: str, service: str, directory: str, timeout: float):
    """(main pid, real directory) once every process of the service runs in directory, else fail_json."""
    deadline = time.monotonic() + timeout
    while True:
        target = os.path.realpath(directory, strict=True)
        pid = main_pid(module, systemctl, service)
        wrong = elsewhere(pid, target)
        if not wrong:
            return pid, target
        if time.monotonic() >= deadline:
            module.fail_json(msg=f"{service} does not run {target} after {timeout:g} s: {', '.join(wrong)}")
        time.sleep(0.2)


def running(module, systemctl: str, service: str) -> dict:
    """Whether the service is active, and the real paths of its main process's working directory and of the
    virtualenv it runs from (argv[0] is <venv>/bin/python3 unless setproctitle renamed it; "" then)."""
    rc, out, _err = module.run_command([systemctl, "show", "--property=ActiveState,MainPID", service])
    properties = dict(line.split("=", 1) for line in out.splitlines() if "=" in line) if rc == 0 else {}
    pid = int(properties.get("MainPID") or 0)
    found = {"active": properties.get("ActiveState") == "active", "workdir": "", "venv": ""}
    if found["active"] and pid > 0:
        try:
            found["workdir"] = os.path.realpath(f"/proc/{pid}/cwd", strict=True)
            with open(f"/proc/{pid}/cmdline", "rb") as stream:
                argv0 = stream.read().split(b"\0")[0].decode()
        except OSError:
            argv0 = ""
        if re.search(r"/bin/python[0-9.]*$", argv0):
            found["venv"] = os.path.realpath(os.path.dirname(os.path.dirname(argv0)))
    return found


def decide(found: dict, workdir: str, venv: str, force: bool) -> str:
    """none (not active), restart (another virtualenv), reload (another directory, or forced), else none."""
    if not found["active"]:
        return "none"
    if found["venv"] != venv:
        return "restart"
    if found["workdir"] != workdir or force:
        return "reload"
    return "none"


def run(module) -> dict:
    params = module.params
    decided = {}
    if params["action"] == "auto":
        systemctl = module.get_bin_path("systemctl", required=True)
        found = running(module, systemctl, params["name"])
        workdir = os.path.realpath(params["directory"])
        action = decide(found, workdir, os.path.realpath(params["venv"] or ""), params["force"])
        decided = {"action": action, "active": found["active"], "pending_check": False}
        if action == "none":
            return {"changed": False, **decided}
        if workdir != params["checked"]:
            return {"changed": False, **decided, "pending_check": True}
        params = {**params, "action": action}
    if module.check_mode:
        return {"changed": True, **decided}
    if not os.path.isdir(params["directory"]):
        module.fail_json(msg=f"directory: {params['directory']} is not a directory")
    systemctl = module.get_bin_path("systemctl", required=True)
    rc, out, err = module.run_command([systemctl, params["action"], params["name"]])
    if rc != 0:
        module.fail_json(msg=f"systemctl {params['action']} {params['name']} failed: {(err or out).strip()}", rc=rc)
    pid, target = wait_for(module, systemctl, params["name"], params["directory"], float(params["timeout"]))
    return {"changed": True, **decided, "main_pid": pid, "directory": target}


class ScriptHost:
    """What run() asks of AnsibleModule, for the file run as a script: `python3 -c <this file> <options as JSON>`
    (with "check_mode"), over raw (gunicorn's reload on every run: no module around it, about 0.2 s less over
    SSH). It prints the module's answer as one JSON object, on the last line of its output; a failure exits 1."""

    def __init__(self, options: dict):
        options = dict(options)
        self.check_mode = bool(options.pop("check_mode", False))
        self.params = {"action": "reload", "venv": None, "force": False, "checked": "", "timeout": 60, **options}
        missing = [name for name in ("name", "directory") if not self.params.get(name)]
        if missing:
            self.fail_json(msg=f"missing required arguments: {', '.join(missing)}")
        if self.params["action"] not in ("reload", "restart", "auto"):
            self.fail_json(msg=f"value of action must be one of: reload, restart, auto, got: {self.params['action']}")
        if self.params["action"] == "auto" and not self.params["venv"]:
            self.fail_json(msg="action is auto but all of the following are missing: venv")

    def run_command(self, argv):
        done = subprocess.run(argv, capture_output=True, text=True, errors="replace", check=False)
        return done.returncode, done.stdout, done.stderr

    def get_bin_path(self, name, required=False):
        found = shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/usr/bin:/sbin:/bin")
        if not found and required:
            self.fail_json(msg=f"Failed to find required executable {name}")
        return found

    def fail_json(self, msg, **kwargs):
        print(json.dumps({"failed": True, "msg": msg, **kwargs}))
        sys.exit(1)


def main():
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "directory": {"type": "path", "required": True},
            "action": {"type": "str", "choices": ["reload", "restart", "auto"], "default": "reload"},
            "venv": {"type": "path"},
            "force": {"type": "bool", "default": False},
            "checked": {"type": "str", "default": ""},
            "timeout": {"type": "int", "default": 60},
        },
        supports_check_mode=True,
        required_if=[("action", "auto", ["venv"])],
    )
    module.exit_json(**run(module))


if __name__ == "__main__":
    if sys.argv[0] == "-c":
        print(json.dumps(run(ScriptHost(json.loads(sys.argv[1])))))
    else:
        main()
