"""django's look at the release (roles/django/files/release_probe.py), run as the role runs it over raw, answers as
ansible.builtin.find did with the same question (file_type any, hidden false): the same paths, modes, owners and
checksums."""

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = (ROOT / "roles" / "django" / "files" / "release_probe.py").read_text()
KEYS = ("path", "mode", "pw_name", "gr_name", "checksum")


@pytest.fixture
def release(tmp_path):
    project = tmp_path / "release" / "example"
    (project / "notes" / "locale" / "de" / "LC_MESSAGES").mkdir(parents=True)
    (project / "manage.py").write_text("#!/usr/bin/env python\n")
    (project / "notes" / "locale" / "de" / "LC_MESSAGES" / "django.po").write_text("msgid ''\n")
    (project / ".cache").mkdir()
    (project / ".cache" / "old.po").write_text("")
    (project / ".hidden.po").write_text("")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python3.11").write_text("")
    (venv / "bin" / "python").symlink_to("python3.11")
    (project / ".venv").symlink_to(venv)
    env = tmp_path / "etc"
    env.mkdir()
    (env / "env").write_text("DEBUG=false\n")
    os.chmod(env / "env", 0o640)
    (env / "postgresql-root-abc.crt").write_text("cert\n")
    (env / "other").write_text("")
    return {"project": str(project), "bin": str(venv / "bin"), "env": str(env)}


def probe(spec):
    done = subprocess.run(["python3", "-c", SCRIPT, json.dumps(spec)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])["files"]


def find(spec, config):
    args = {
        "paths": spec["paths"],
        "patterns": spec["patterns"],
        "file_type": "any",
        "recurse": spec["recurse"],
        "get_checksum": spec["checksum"],
    }
    done = subprocess.run(
        ["ansible", "localhost", "-m", "ansible.builtin.find", "-a", json.dumps(args)],
        capture_output=True,
        text=True,
        check=True,
        env={
            **os.environ,
            "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
            "ANSIBLE_STDOUT_CALLBACK": "json",
            # Not the repository's ansible.cfg: its profile_tasks callback prints after the JSON.
            "ANSIBLE_CONFIG": str(config),
        },
    )
    result = json.loads(done.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    return result["files"]


def _comparable(files):
    return sorted(({key: entry[key] for key in KEYS if key in entry} for entry in files), key=lambda e: e["path"])


@pytest.mark.parametrize("recurse", [True, False])
def test_the_probe_answers_as_find(release, recurse, tmp_path):
    spec = {
        "paths": [release["project"], release["bin"], release["env"]],
        "patterns": ["manage.py", "python", "*.po", "env", "postgresql-root-*.crt"],
        "recurse": recurse,
        "checksum": True,
    }
    found = probe(spec)
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")
    assert _comparable(found) == _comparable(find(spec, tmp_path / "ansible.cfg"))
    paths = {entry["path"] for entry in found}
    assert release["project"] + "/manage.py" in paths
    assert release["bin"] + "/python" in paths
    assert release["env"] + "/postgresql-root-abc.crt" in paths
    assert (release["project"] + "/notes/locale/de/LC_MESSAGES/django.po" in paths) == recurse
    assert not any(Path(path).name.startswith(".") for path in paths)
    env = next(entry for entry in found if entry["path"] == release["env"] + "/env")
    assert env["mode"] == "0640"
    assert len(env["checksum"]) == 40


def test_a_missing_directory_is_skipped_and_no_checksum_unless_asked(release, tmp_path):
    spec = {
        "paths": [str(tmp_path / "missing"), release["env"]],
        "patterns": ["env"],
        "recurse": False,
        "checksum": False,
    }
    assert [entry["path"] for entry in probe(spec)] == [release["env"] + "/env"]
    assert "checksum" not in probe(spec)[0]
