"""Shared testinfra fixtures for every Molecule scenario.

Molecule hands testinfra an inventory whose hosts use the podman connection, which testinfra
runs through a full `ansible` call per command (about a second each). The `host` fixture here
talks to the same container with `podman exec` instead; `ansible_host` keeps the Ansible backend
for the few tests that need `host.ansible(...)`. `run_playbook` runs a playbook of the
scenario against its instances (for tests of bad input); `task_hosts` reads what a task did on
each host from that run's output.
"""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import testinfra
from testinfra.host import Host


@pytest.fixture(scope="module")
def ansible_host(_testinfra_host: Host) -> Host:
    return _testinfra_host


@pytest.fixture(scope="module")
def host(_testinfra_host: Host) -> Host:
    name = _testinfra_host.backend.host
    return testinfra.get_host(f"podman://{name}")


def _run_playbook(
    playbook: str,
    extra_vars: dict | None = None,
    limit: str | None = None,
    args: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """Run a playbook of the current scenario against its instances, as `molecule converge` would.

    Used to prove that bad input stops a role with a message naming the variable: the caller
    asserts on returncode and on stdout (which holds stderr too: ansible-core
    2.19 prints task errors there). `playbook` is relative to the scenario directory. `args` are
    more ansible-playbook options (`["--check", "--diff"]`, `["-vvv"]`), `env` more environment.
    """
    scenario = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"])
    run_env = dict(os.environ)
    run_env.setdefault("ANSIBLE_ROLES_PATH", str(Path(__file__).resolve().parent.parent / "roles"))
    run_env["ANSIBLE_NOCOLOR"] = "1"
    run_env["ANSIBLE_FORCE_COLOR"] = "0"
    run_env.update(env or {})
    cmd = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], str(scenario / playbook)]
    if extra_vars:
        cmd += ["--extra-vars", json.dumps(extra_vars)]
    if limit:
        cmd += ["--limit", limit]
    cmd += args or []
    return subprocess.run(
        cmd, env=run_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600, check=False
    )


@pytest.fixture(scope="session")
def run_playbook():
    """The `_run_playbook` function, as a fixture: `run_playbook("bad.yml", {...}, limit=name, args=[...])`."""
    return _run_playbook


def _unit_users(host: Host, unit: str) -> set[str]:
    """The users whose processes wrote the unit's journal lines (the service's own output, by _UID)."""
    out = host.check_output(f"journalctl _SYSTEMD_UNIT={unit} --no-pager -o json --output-fields=_UID")
    uids = {json.loads(line)["_UID"] for line in out.splitlines() if line.strip()}
    return {host.check_output(f"getent passwd {uid} | cut -d: -f1") for uid in uids}


@pytest.fixture(scope="session")
def unit_users():
    """The `_unit_users` function, as a fixture: `unit_users(host, "notes-backup.service") == {"notes-backup"}`."""
    return _unit_users


def _task_hosts(output: str, title: str) -> list[tuple[str, str]]:
    """Each run of the task `title` (its TASK line ends with it) in a playbook's output:
    [(status, host)] in the order printed, status one of ok, changed, skipping, fatal."""
    found = []
    for block in re.split(r"^TASK \[", output, flags=re.MULTILINE)[1:]:
        name, _, body = block.partition("]")
        if name.endswith(title):
            found += re.findall(r"^(ok|changed|skipping|fatal): \[([^\]]+)\]", body, re.MULTILINE)
    return found


@pytest.fixture(scope="session")
def task_hosts():
    """The `_task_hosts` function, as a fixture: `task_hosts(result.stdout, "django : Apply the migrations")`."""
    return _task_hosts
