"""The state a role's host setup left (plugins/modules/host_state.py), whose digest `<role>_setup: verified`
compares with the one recorded after the setup; and the roles that read it."""

import hashlib
import importlib.util
import json
import os
import pwd
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("host_state", ROOT / "plugins" / "modules" / "host_state.py")
host_state = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(host_state)

ROLES = ["app_code", "python_venv", "django", "gunicorn", "firewall", "nginx", "letsencrypt", "postgresql"]
KINDS = {"packages", "users", "groups", "paths", "files", "certificates", "units", "active_units"}
# What a role passes: the kinds, and how long its certificates must stay valid.
MANIFEST = KINDS | {"certificates_valid_for"}


class FakeModule:
    """What host_state() asks of AnsibleModule: commands (answered from `outputs`) and binaries."""

    def __init__(self, outputs: dict):
        self.outputs = outputs
        self.commands = []

    def run_command(self, argv):
        self.commands.append(argv)
        return 0, self.outputs[argv[0].rsplit("/", 1)[-1]], ""

    def get_bin_path(self, name, required=False):
        return "/usr/bin/" + name

    def fail_json(self, **kwargs):
        raise AssertionError(kwargs)


def read(params: dict, outputs: dict | None = None) -> dict:
    return host_state.host_state(FakeModule(outputs or {}), {kind: params.get(kind, []) for kind in KINDS})


def test_paths_read_their_type_owner_and_mode_and_files_their_content(tmp_path):
    directory, file, link = tmp_path / "d", tmp_path / "f", tmp_path / "l"
    directory.mkdir(mode=0o750)
    os.chmod(directory, 0o750)
    file.write_text("a\n")
    os.chmod(file, 0o640)
    link.symlink_to(file)
    owner = pwd.getpwuid(os.getuid()).pw_name
    state = read({"paths": [str(directory), str(link), str(tmp_path / "none")], "files": [str(file)]})
    assert state["paths"][str(directory)]["type"] == "directory"
    assert state["paths"][str(directory)]["owner"] == owner
    assert state["paths"][str(directory)]["mode"] == "0750"
    assert state["paths"][str(link)]["type"] == "link"
    assert state["paths"][str(link)]["target"] == str(file)
    assert state["paths"][str(tmp_path / "none")] == "absent"
    assert state["files"][str(file)]["mode"] == "0640"
    assert len(state["files"][str(file)]["sha256"]) == 64


def test_an_edit_a_mode_or_a_removal_changes_the_state(tmp_path):
    directory = tmp_path / "d"
    directory.mkdir()
    os.chmod(directory, 0o755)
    file = directory / "f"
    file.write_text("a\n")
    params = {"paths": [str(directory)], "files": [str(file)]}
    first = read(params)
    assert read(params) == first
    file.write_text("a\n# edited\n")
    edited = read(params)
    assert edited != first
    os.chmod(directory, 0o700)
    assert read(params) != edited
    file.unlink()
    assert read(params)["files"][str(file)] == "absent"


def test_accounts_read_their_entries():
    root = read({"users": ["root", "no-such-user-here"], "groups": ["root"]})
    assert root["users"]["root"]["uid"] == 0
    assert root["users"]["no-such-user-here"] == "absent"
    assert root["groups"]["root"] == {"gid": 0}


def test_packages_and_units_read_in_one_command_each():
    module = FakeModule(
        {
            "dpkg-query": "git\tinstall ok installed 1:2.39.5-0\n",
            "systemctl": "Id=notes.service\nLoadState=loaded\nActiveState=active\nUnitFileState=static\n\n"
            "Id=notes.socket\nLoadState=loaded\nActiveState=active\nUnitFileState=enabled\n",
        }
    )
    params = {kind: [] for kind in KINDS}
    params.update(packages=["git", "rsync"], units=["notes.service"], active_units=["notes.socket"])
    state = host_state.host_state(module, params)
    assert len(module.commands) == 2
    assert state["packages"] == {"git": "install ok installed 1:2.39.5-0", "rsync": "absent"}
    # The service's active state (a socket starts it on demand) is left out; the socket's is read.
    assert state["units"] == {
        "notes.service": {"load": "loaded", "file": "static"},
        "notes.socket": {"load": "loaded", "file": "enabled", "active": "active"},
    }


def test_nothing_asked_reads_nothing():
    module = FakeModule({})
    assert host_state.host_state(module, {kind: [] for kind in KINDS}) == {}
    assert module.commands == []


@pytest.mark.parametrize("name", ROLES)
def test_each_role_names_every_kind_of_state_its_setup_reads(name):
    """The record and the check of `<role>_setup: verified` pass the same manifest, every kind of it."""
    variables = yaml.safe_load((ROOT / "roles" / name / "vars" / "main.yml").read_text())
    assert set(variables[f"__{name}_setup_state"]) == MANIFEST
    # The record: the module's file as a script over raw, given the whole manifest and where to record it.
    tasks = yaml.safe_load((ROOT / "roles" / name / "tasks" / "setup.yml").read_text())
    records = [task["ansible.builtin.raw"] for task in tasks if "'record_to'" in task.get("ansible.builtin.raw", "")]
    assert len(records) == 1
    assert f"__{name}_setup_state | combine({{'record_to': __{name}_setup_file, 'record': " in records[0]
    assert "role_path ~ '/../../plugins/modules/host_state.py'" in records[0]
    # The check on every run: the module's file as a script over raw, given the whole manifest.
    tasks = yaml.safe_load((ROOT / "roles" / name / "tasks" / "setup_state.yml").read_text())
    reads = [task["ansible.builtin.raw"] for task in tasks if "host_state.py" in task.get("ansible.builtin.raw", "")]
    assert len(reads) == 1
    assert f"{{{{ __{name}_setup_state | to_json | quote }}}}" in reads[0]
    assert "role_path ~ '/../../plugins/modules/host_state.py'" in reads[0]
    assert variables[f"__{name}_setup_state_now"].strip() == (
        f"{{{{ __{name}_setup_state_read | default({{}}) | djangoops.django.script_answer }}}}"
    )


def test_the_file_run_as_a_script_answers_as_the_module(tmp_path):
    """python3 -c <host_state.py> <options as JSON>, as the roles run it over raw: the module's answer."""
    (tmp_path / "file").write_text("content\n")
    (tmp_path / "link").symlink_to(tmp_path / "file")
    me = pwd.getpwuid(os.getuid()).pw_name
    params = {"users": [me, "djangoops-nobody"], "groups": ["root"], "paths": [str(tmp_path), str(tmp_path / "link")]}
    params["files"] = [str(tmp_path / "file"), str(tmp_path / "missing")]
    done = subprocess.run(
        ["python3", "-c", (ROOT / "plugins" / "modules" / "host_state.py").read_text(), json.dumps(params)],
        capture_output=True,
        text=True,
        check=True,
    )
    answer = json.loads(done.stdout.splitlines()[-1])
    expected = host_state.read(FakeModule({}), {kind: params.get(kind, []) for kind in KINDS})
    assert answer == expected
    assert answer["state"]["users"]["djangoops-nobody"] == "absent"
    assert answer["state"]["files"][str(tmp_path / "file")]["sha256"] == hashlib.sha256(b"content\n").hexdigest()


def _script(params: dict) -> dict:
    done = subprocess.run(
        ["python3", "-c", (ROOT / "plugins" / "modules" / "host_state.py").read_text(), json.dumps(params)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def test_record_to_writes_the_record_with_the_digest_once(tmp_path):
    """A role's record after its setup: the read and the write in one call, rewritten only when it differs."""
    (tmp_path / "file").write_text("content\n")
    record = tmp_path / "facts.d" / "djangoops_setup_example.fact"
    params = {"files": [str(tmp_path / "file")], "record_to": str(record), "record": {"fingerprint": "abc"}}
    answer = _script(params)
    assert answer["recorded"] is True
    assert json.loads(record.read_text()) == {"fingerprint": "abc", "state": answer["digest"], "not_after": {}}
    assert record.read_text().endswith("}\n")
    assert oct(record.stat().st_mode & 0o7777) == "0o644"
    assert oct(record.parent.stat().st_mode & 0o7777) == "0o755"
    assert list(record.parent.iterdir()) == [record]  # no temporary file left beside it
    # The same state and fingerprint: nothing written.
    written = record.stat().st_mtime_ns
    assert _script(params)["recorded"] is False
    assert record.stat().st_mtime_ns == written
    # A drift (the file's content) or another fingerprint: written again.
    (tmp_path / "file").write_text("edited\n")
    again = _script(params)
    assert again["recorded"] is True
    assert json.loads(record.read_text())["state"] == again["digest"] != answer["digest"]
    assert _script({**params, "record": {"fingerprint": "def"}})["recorded"] is True
    assert json.loads(record.read_text())["fingerprint"] == "def"
    # A mode changed by hand: written again, with the record's mode.
    record.chmod(0o600)
    assert _script({**params, "record": {"fingerprint": "def"}})["recorded"] is True
    assert oct(record.stat().st_mode & 0o7777) == "0o644"


def test_without_record_to_nothing_is_written_and_check_mode_writes_nothing(tmp_path):
    assert "recorded" not in _script({"paths": [str(tmp_path)]})
    module = FakeModule({})
    module.check_mode = True
    record = tmp_path / "record.fact"
    params = {kind: [] for kind in KINDS} | {"paths": [str(tmp_path)], "record_to": str(record), "record": {}}
    assert host_state.read(module, params)["recorded"] is False
    assert not record.exists()


def test_the_script_s_failure_is_one_json_object_and_exit_1(capsys):
    with pytest.raises(SystemExit) as stopped:
        host_state.ScriptHost().fail_json(msg="systemctl show failed: no bus", rc=1)
    assert stopped.value.code == 1
    assert json.loads(capsys.readouterr().out) == {"failed": True, "msg": "systemctl show failed: no bus", "rc": 1}


def test_certificates_read_whether_they_stay_valid_long_enough(tmp_path):
    """openssl answers; a certificate closer to its expiry than asked reads differently, once."""
    cert = tmp_path / "fullchain.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(tmp_path / "key.pem"),
            "-out",
            str(cert),
            "-days",
            "10",
            "-subj",
            "/CN=site.test",
        ],
        check=True,
        capture_output=True,
    )
    (tmp_path / "broken.pem").write_text("not a certificate\n")

    class Module(FakeModule):
        def run_command(self, argv):
            done = subprocess.run(argv, capture_output=True, text=True)
            return done.returncode, done.stdout, done.stderr

    paths = [str(cert), str(tmp_path / "none.pem"), str(tmp_path / "broken.pem")]

    def read_for(seconds, not_after=None):
        params = {kind: [] for kind in KINDS}
        params.update(certificates=paths, certificates_valid_for=seconds)
        return host_state.host_state(Module({}), params, not_after)["certificates"]

    assert read_for(5 * 86400) == {paths[0]: "valid", paths[1]: "absent", paths[2]: "unreadable"}
    assert read_for(30 * 86400)[paths[0]] == "expiring"
    # The expiry, read by the same call, outside the state: the readable certificate's only.
    not_after = {}
    read_for(5 * 86400, not_after)
    enddate = subprocess.run(
        ["openssl", "x509", "-noout", "-enddate", "-in", str(cert)], capture_output=True, text=True, check=True
    ).stdout.strip()
    expected = datetime.strptime(enddate, "notAfter=%b %d %H:%M:%S %Y GMT").strftime("%Y-%m-%dT%H:%M:%SZ")
    assert not_after == {paths[0]: expected}


def test_not_after_reads_openssls_enddate_line():
    assert host_state._not_after("notAfter=Dec  5 09:03:07 2026 GMT\nCertificate will not expire\n") == (
        "2026-12-05T09:03:07Z"
    )
    assert host_state._not_after("notAfter=Mar 10 23:59:59 2029 GMT\n") == "2029-03-10T23:59:59Z"
    assert host_state._not_after("Could not read certificate\n") == ""


def test_the_documentation_parses_and_names_every_option():
    """ansible-doc and ansible-lint read DOCUMENTATION as YAML; its options are the module's."""
    documentation = yaml.safe_load(host_state.DOCUMENTATION)
    yaml.safe_load(host_state.EXAMPLES)
    yaml.safe_load(host_state.RETURN)
    assert set(documentation["options"]) == MANIFEST | {"record_to", "record"}
