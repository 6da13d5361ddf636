"""Reload or restart a service and wait for its processes to run the release (plugins/modules/service_release.py),
which gunicorn's reload entry point calls once per deploy."""

import importlib.util
import os
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("service_release", ROOT / "plugins" / "modules" / "service_release.py")
service_release = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(service_release)


class Failed(Exception):
    pass


class FakeModule:
    """What the module asks of AnsibleModule; `systemctl show` answers with main_pid."""

    def __init__(self, params: dict, main_pid: int = 0, check_mode: bool = False, action_rc: int = 0):
        self.params = {"action": "reload", "timeout": 60, **params}
        self.check_mode = check_mode
        self.main_pid = main_pid
        self.action_rc = action_rc
        self.commands = []

    def run_command(self, argv):
        self.commands.append(argv[1:])
        if argv[1] == "show":
            return 0, f"{self.main_pid}\n", ""
        return self.action_rc, "", "Job for x.service failed." if self.action_rc else ""

    def get_bin_path(self, name, required=False):
        return "/usr/bin/" + name

    def fail_json(self, **kwargs):
        raise Failed(kwargs["msg"])


@pytest.fixture
def process(tmp_path):
    """A process (the service's main process) whose working directory is tmp_path/releases/r1."""
    release = tmp_path / "releases" / "r1"
    release.mkdir(parents=True)
    (tmp_path / "current").symlink_to("releases/r1")
    proc = subprocess.Popen(["sleep", "60"], cwd=release)
    yield proc, tmp_path
    proc.kill()
    proc.wait()


def test_reload_returns_once_every_process_runs_in_the_release(process):
    proc, root = process
    module = FakeModule({"name": "notes.service", "directory": str(root / "current")}, main_pid=proc.pid)
    result = service_release.run(module)
    assert result == {"changed": True, "main_pid": proc.pid, "directory": str((root / "releases" / "r1").resolve())}
    assert module.commands[0] == ["reload", "notes.service"]


def test_restart_is_asked_for_by_name(process):
    proc, root = process
    module = FakeModule({"name": "notes.service", "directory": str(root / "current"), "action": "restart"}, proc.pid)
    service_release.run(module)
    assert module.commands[0] == ["restart", "notes.service"]


def test_a_process_still_in_another_release_fails_after_the_timeout(process):
    proc, root = process
    (root / "releases" / "r2").mkdir()
    (root / "current").unlink()
    (root / "current").symlink_to("releases/r2")
    module = FakeModule({"name": "notes.service", "directory": str(root / "current"), "timeout": 0}, proc.pid)
    with pytest.raises(Failed) as failed:
        service_release.run(module)
    assert str(failed.value) == (
        f"notes.service does not run {(root / 'releases' / 'r2').resolve()} after 0 s: "
        f"{proc.pid} in {(root / 'releases' / 'r1').resolve()}"
    )


def test_a_service_without_a_main_process_fails(process):
    _proc, root = process
    module = FakeModule({"name": "notes.service", "directory": str(root / "current"), "timeout": 0}, main_pid=0)
    with pytest.raises(Failed, match=r"notes\.service does not run .* after 0 s: no main process"):
        service_release.run(module)


def test_a_failed_systemctl_stops_before_waiting(process):
    _proc, root = process
    module = FakeModule({"name": "notes.service", "directory": str(root / "current")}, action_rc=1)
    with pytest.raises(Failed, match=r"^systemctl reload notes.service failed: Job for x.service failed.$"):
        service_release.run(module)
    assert module.commands == [["reload", "notes.service"]]


def test_check_mode_reports_the_change_and_runs_nothing(tmp_path):
    module = FakeModule({"name": "notes.service", "directory": str(tmp_path / "absent")}, check_mode=True)
    assert service_release.run(module) == {"changed": True}
    assert module.commands == []


def test_the_wait_sees_the_children_of_the_main_process(tmp_path):
    """Gunicorn's workers are children of its master: one left in the old release keeps the wait going."""
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    parent = subprocess.Popen(["sh", "-c", f"cd {old} && exec sleep 60 & wait"], cwd=new)
    try:
        # The child changes into old/ once it has started.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            wrong = service_release.elsewhere(parent.pid, os.path.realpath(new))
            if wrong:
                break
            time.sleep(0.05)
        children = service_release.children(parent.pid)
        assert len(children) == 1
        assert wrong == [f"{children[0]} in {os.path.realpath(old)}"]
    finally:
        subprocess.run(["pkill", "-P", str(parent.pid)], check=False)
        parent.kill()
        parent.wait()
