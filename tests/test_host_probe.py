"""python_venv's one read of the host (roles/python_venv/files/host_probe.py), run as the role runs it
(`python3 -c <script> <spec>`) against a tree that stands for a host: the inputs' files, the interpreter,
the completed virtualenvs and the links of the releases."""

import getpass
import grp
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = (Path(__file__).resolve().parent.parent / "roles" / "python_venv" / "files" / "host_probe.py").read_text()
MARKER = ".python_venv_complete"
ADDED = ".python_venv_added.json"


def probe(**spec) -> dict:
    out = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(spec)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.fixture
def host(tmp_path):
    root = tmp_path / "venvs"
    for name, added in [("aaaa", None), ("bbbb", [{"requirement": "gunicorn", "module": ["gunicorn"]}])]:
        (root / name).mkdir(parents=True)
        (root / name / MARKER).write_text("recipe\n")
        if added is not None:
            (root / name / ADDED).write_text(json.dumps(added))
    os.utime(root / "aaaa" / MARKER, (1_000_000, 1_000_000))
    (root / "cccc").mkdir()  # an interrupted build: no marker
    releases = tmp_path / "releases"
    for release, venv in [("r1", "aaaa"), ("r2", "gone")]:
        (releases / release).mkdir(parents=True)
        (releases / release / ".venv").symlink_to(root / venv)
    (releases / "r1" / "manage.py").write_text("")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("Django==5.2\n")
    return {
        "python": sys.executable,
        "owner": getpass.getuser(),
        "group": grp.getgrgid(os.getgid()).gr_name,
        "files": [str(requirements), str(tmp_path / "missing.txt")],
        "paths": [str(tmp_path), str(requirements)],
        "root": str(root),
        "marker": MARKER,
        "added": ADDED,
        "releases": str(releases),
    }


def test_the_files_are_checksummed_and_a_missing_one_is_named(host):
    found = probe(**host)["files"]
    requirements, missing = host["files"]
    assert found[requirements] == {"isreg": True, "sha256": hashlib.sha256(b"Django==5.2\n").hexdigest()}
    assert found[missing] == {"isreg": False, "sha256": ""}


def test_the_interpreter_version_or_nothing_when_it_is_missing(host):
    assert probe(**host)["python_version"] == "{}.{}".format(*sys.version_info[:2])
    assert probe(**{**host, "python": "/nonexistent/python3"})["python_version"] == ""
    assert probe(**{**host, "python": ""})["python_version"] == ""


def test_the_accounts_are_looked_up(host):
    found = probe(**host)
    assert found["owner_exists"]
    assert found["group_exists"]
    found = probe(**{**host, "owner": "no-such-user-here", "group": "no-such-group-here"})
    assert not found["owner_exists"]
    assert not found["group_exists"]


def test_paths_say_what_they_are(host):
    directory, regular = host["paths"]
    found = probe(**host)["paths"]
    assert found[directory] == {"isdir": True, "isreg": False}
    assert found[regular] == {"isdir": False, "isreg": True}


def test_only_completed_virtualenvs_are_listed_with_their_added_packages(host):
    venvs = {venv["name"]: venv for venv in probe(**host)["venvs"]}
    assert set(venvs) == {"aaaa", "bbbb"}  # cccc has no marker
    assert venvs["aaaa"]["mtime"] == 1_000_000
    assert venvs["aaaa"]["added"] is None
    assert venvs["bbbb"]["added"] == [{"requirement": "gunicorn", "module": ["gunicorn"]}]


def test_the_releases_links_follow_the_roots_real_path(host):
    links = probe(**host)["release_links"]
    assert links[0] == os.path.realpath(host["root"])
    assert sorted(links[1:]) == sorted([os.path.join(links[0], "aaaa"), os.path.join(links[0], "gone")])


def test_no_releases_directory_and_no_root_give_empty_lists(host, tmp_path):
    found = probe(**{**host, "releases": "", "root": str(tmp_path / "none")})
    assert found["venvs"] == []
    assert found["release_links"] == []
    assert probe(**{**host, "releases": str(tmp_path / "none")})["release_links"] == []


def test_a_link_is_read_with_its_own_target_owner_and_group(host, tmp_path):
    link = tmp_path / "releases" / "r1" / ".venv"
    found = probe(**host, links=[str(link), str(tmp_path / "releases" / "r1" / "manage.py"), str(tmp_path / "nowhere")])
    assert found["links"] == {
        str(link): {"target": str(Path(host["root"]) / "aaaa"), "owner": host["owner"], "group": host["group"]},
        str(tmp_path / "releases" / "r1" / "manage.py"): {"target": "", "owner": "", "group": ""},
        str(tmp_path / "nowhere"): {"target": "", "owner": "", "group": ""},
    }
