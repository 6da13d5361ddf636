"""Reload or restart a service and wait for its processes to run the release (plugins/modules/service_release.py),
which gunicorn's reload entry point calls once per deploy."""

import importlib.util
import json
import os
import subprocess
import sys
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

    def __init__(
        self, params: dict, main_pid: int = 0, check_mode: bool = False, action_rc: int = 0, active: bool = True
    ):
        self.params = {"action": "reload", "timeout": 60, "venv": None, "force": False, "checked": "", **params}
        self.check_mode = check_mode
        self.main_pid = main_pid
        self.action_rc = action_rc
        self.active = active
        self.commands = []

    def run_command(self, argv):
        self.commands.append(argv[1:])
        if argv[1] == "show" and "--value" in argv:
            return 0, f"{self.main_pid}\n", ""
        if argv[1] == "show":
            state = "active" if self.active else "inactive"
            return 0, f"ActiveState={state}\nMainPID={self.main_pid if self.active else 0}\n", ""
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


# --- action auto: read the running master, decide, act ------------------------------------------------------


@pytest.fixture
def master(tmp_path):
    """A main process started as <venv>/bin/python (as Gunicorn's master is) in releases/r1, with current -> r1."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    for release in ("r1", "r2"):
        (tmp_path / "releases" / release).mkdir(parents=True)
    (tmp_path / "current").symlink_to("releases/r1")
    proc = subprocess.Popen(
        [str(venv / "bin" / "python"), "-c", "import time; time.sleep(60)"], cwd=tmp_path / "releases" / "r1"
    )
    # Until the child has exec'd, /proc shows the forked test runner (its argv, its directory): wait for the master.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            argv0 = Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")[0].decode()
        except OSError:
            argv0 = ""
        if argv0 == str(venv / "bin" / "python"):
            break
        time.sleep(0.01)
    yield proc, tmp_path
    proc.kill()
    proc.wait()


def auto(root: Path, pid: int, **params) -> FakeModule:
    return FakeModule(
        {"name": "notes.service", "directory": str(root / "current"), "venv": str(root / "venv"), "action": "auto"}
        | params,
        main_pid=pid,
    )


def test_auto_does_nothing_when_the_master_runs_the_current_release(master):
    proc, root = master
    module = auto(root, proc.pid)
    assert service_release.run(module) == {"changed": False, "action": "none", "active": True, "pending_check": False}
    assert [command[0] for command in module.commands] == ["show"]


def test_auto_does_nothing_when_the_service_is_not_active(master):
    proc, root = master
    module = auto(root, proc.pid)
    module.active = False
    assert service_release.run(module)["action"] == "none"
    assert [command[0] for command in module.commands] == ["show"]


def test_auto_reloads_for_a_checked_release_in_the_same_call(master):
    proc, root = master
    (root / "current").unlink()
    (root / "current").symlink_to("releases/r2")
    module = auto(root, proc.pid, checked=str((root / "releases" / "r2").resolve()), timeout=0)
    # The fake reload moves nothing: the wait names the process still in r1, after the reload was asked for.
    with pytest.raises(Failed, match=r"does not run .*r2 after 0 s"):
        service_release.run(module)
    assert ["reload", "notes.service"] in module.commands


def test_auto_asks_for_a_check_of_a_release_not_checked_and_does_nothing(master):
    proc, root = master
    (root / "current").unlink()
    (root / "current").symlink_to("releases/r2")
    module = auto(root, proc.pid, checked=str(root / "current"))
    assert service_release.run(module) == {"changed": False, "action": "reload", "active": True, "pending_check": True}
    assert [command[0] for command in module.commands] == ["show"]


def test_auto_restarts_a_master_of_another_virtualenv(master):
    proc, root = master
    (root / "venv2").mkdir()
    module = auto(root, proc.pid, venv=str(root / "venv2"), checked=str((root / "releases" / "r1").resolve()))
    module.check_mode = True
    assert service_release.run(module) == {"changed": True, "action": "restart", "active": True, "pending_check": False}
    assert [command[0] for command in module.commands] == ["show"]


def test_auto_reloads_a_master_of_the_current_release_when_forced(master):
    proc, root = master
    module = auto(root, proc.pid, force=True, checked=str((root / "releases" / "r1").resolve()))
    result = service_release.run(module)
    assert (result["changed"], result["action"], result["directory"]) == (
        True,
        "reload",
        str((root / "releases" / "r1").resolve()),
    )
    assert ["reload", "notes.service"] in module.commands


def _script(options: dict) -> subprocess.CompletedProcess:
    """The module's file run as gunicorn's reload.yml runs it over raw: python3 -c <file> <options as JSON>."""
    source = (ROOT / "plugins" / "modules" / "service_release.py").read_text()
    return subprocess.run(["python3", "-c", source, json.dumps(options)], capture_output=True, text=True, check=False)


def test_the_file_run_as_a_script_answers_in_check_mode_without_acting(tmp_path):
    done = _script({"name": "notes.service", "directory": str(tmp_path), "action": "reload", "check_mode": True})
    assert done.returncode == 0
    assert json.loads(done.stdout.splitlines()[-1]) == {"changed": True}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"directory": "/srv"}, "missing required arguments: name"),
        ({"name": "notes.service", "directory": "/srv", "action": "stop"}, "value of action must be one of"),
        ({"name": "notes.service", "directory": "/srv", "action": "auto"}, "missing: venv"),
        ({"name": "notes.service", "directory": "/nonexistent-djangoops"}, "is not a directory"),
    ],
)
def test_the_script_refuses_bad_options_with_one_json_object_and_exit_1(options, message):
    done = _script(options)
    assert done.returncode == 1
    answer = json.loads(done.stdout.splitlines()[-1])
    assert answer["failed"] is True
    assert message in answer["msg"]
