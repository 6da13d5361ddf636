#!/usr/bin/python
"""Reload or restart a systemd service, then wait until its main process and every child run in a directory."""

import glob
import os
import time

from ansible.module_utils.basic import AnsibleModule

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
  - In check mode it reports the change and does nothing.
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
    description: C(reload) keeps the main process (Gunicorn re-execs its workers), C(restart) replaces it.
    type: str
    choices: [reload, restart]
    default: reload
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
"""

RETURN = r"""
directory:
  description: The real path of I(directory) that the processes run in.
  returned: success, not in check mode
  type: str
main_pid:
  description: The service's main process once all its processes run in I(directory).
  returned: success, not in check mode
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


def run(module) -> dict:
    params = module.params
    if module.check_mode:
        return {"changed": True}
    if not os.path.isdir(params["directory"]):
        module.fail_json(msg=f"directory: {params['directory']} is not a directory")
    systemctl = module.get_bin_path("systemctl", required=True)
    rc, out, err = module.run_command([systemctl, params["action"], params["name"]])
    if rc != 0:
        module.fail_json(msg=f"systemctl {params['action']} {params['name']} failed: {(err or out).strip()}", rc=rc)
    pid, target = wait_for(module, systemctl, params["name"], params["directory"], float(params["timeout"]))
    return {"changed": True, "main_pid": pid, "directory": target}


def main():
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "directory": {"type": "path", "required": True},
            "action": {"type": "str", "choices": ["reload", "restart"], "default": "reload"},
            "timeout": {"type": "int", "default": 60},
        },
        supports_check_mode=True,
    )
    module.exit_json(**run(module))


if __name__ == "__main__":
    main()
