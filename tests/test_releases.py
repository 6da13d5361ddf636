"""An app's releases read (plugins/modules/release_info.py) and current and previous switched
(plugins/modules/release_switch.py), each in one call, as app_code's main entry point, activation, rollback and
discard use them: the links, the commit a version names, what blocks a switch, check mode."""

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "plugins" / "modules" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


release_info = load("release_info")
release_switch = load("release_switch")


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """releases r1 (commit aaa, current) and r2 (commit bbb), a release without REVISION, a leftover build."""
    for name, sha in [("r1", "aaa"), ("r2", "bbb")]:
        (tmp_path / "releases" / name).mkdir(parents=True)
        (tmp_path / "releases" / name / "REVISION").write_text(sha + "\n")
    (tmp_path / "releases" / "r3").mkdir()
    (tmp_path / "releases" / ".tmp-r4").mkdir()
    (tmp_path / "current").symlink_to("releases/r1")
    return tmp_path


def links(root: Path) -> dict:
    return {name: os.readlink(root / name) for name in ["current", "previous"] if (root / name).is_symlink()}


def test_a_switch_points_previous_at_the_release_current_leaves(app):
    result = release_switch.switch(str(app), "r2", check_mode=False)
    assert links(app) == {"current": "releases/r2", "previous": "releases/r1"}
    assert result["changed"] is True
    assert result["blocked"] == ""
    assert result["before"] == {"current": "r1", "previous": ""}
    assert (result["current"], result["previous"], result["sha"]) == ("r2", "r1", "bbb")
    assert result["releases"] == {"r1": "aaa", "r2": "bbb", "r3": ""}
    assert result["leftovers"] == [".tmp-r4"]
    assert result["diff"]["before"] == "current -> releases/r1\n"
    assert result["diff"]["after"] == "current -> releases/r2\nprevious -> releases/r1\n"
    # No temporary link is left beside them.
    assert sorted(p.name for p in app.iterdir()) == ["current", "previous", "releases"]


def test_switching_to_the_current_release_changes_nothing(app):
    release_switch.switch(str(app), "r2", check_mode=False)
    result = release_switch.switch(str(app), "r2", check_mode=False)
    assert result["changed"] is False
    assert "diff" not in result
    assert links(app) == {"current": "releases/r2", "previous": "releases/r1"}
    assert (result["current"], result["previous"], result["sha"]) == ("r2", "r1", "bbb")


def test_an_empty_release_goes_back_to_previous_and_twice_returns(app):
    release_switch.switch(str(app), "r2", check_mode=False)
    back = release_switch.switch(str(app), "", check_mode=False)
    assert links(app) == {"current": "releases/r1", "previous": "releases/r2"}
    assert (back["changed"], back["current"], back["sha"]) == (True, "r1", "aaa")
    release_switch.switch(str(app), "", check_mode=False)
    assert links(app) == {"current": "releases/r2", "previous": "releases/r1"}


def test_the_first_switch_leaves_previous_unset(tmp_path):
    (tmp_path / "releases" / "r1").mkdir(parents=True)
    (tmp_path / "releases" / "r1" / "REVISION").write_text("aaa\n")
    result = release_switch.switch(str(tmp_path), "r1", check_mode=False)
    assert links(tmp_path) == {"current": "releases/r1"}
    assert (result["before"], result["previous"]) == ({"current": "", "previous": ""}, "")


@pytest.mark.parametrize(
    ("release", "blocked"),
    [("", "no_previous"), ("r3", "no_release"), ("r9", "no_release")],
    ids=["no previous", "no REVISION", "absent"],
)
def test_what_blocks_a_switch_is_returned_with_nothing_changed(app, release, blocked):
    result = release_switch.switch(str(app), release, check_mode=False)
    assert (result["blocked"], result["changed"]) == (blocked, False)
    assert links(app) == {"current": "releases/r1"}
    assert result["current"] == "r1"


def test_current_that_is_not_a_link_blocks_the_switch(app):
    (app / "current").unlink()
    (app / "current").mkdir()
    result = release_switch.switch(str(app), "r2", check_mode=False)
    assert (result["blocked"], result["changed"]) == ("not_a_link", False)
    assert (app / "current").is_dir()
    assert not (app / "current").is_symlink()


def test_check_mode_reports_the_switch_to_a_release_not_made_yet_and_changes_nothing(app):
    result = release_switch.switch(str(app), "r9", check_mode=True)
    assert (result["blocked"], result["changed"], result["current"], result["sha"]) == ("", True, "r9", "")
    assert links(app) == {"current": "releases/r1"}


def test_a_base_directory_that_does_not_exist_reads_as_empty(tmp_path):
    result = release_switch.switch(str(tmp_path / "new"), "r1", check_mode=True)
    assert (result["changed"], result["releases"], result["before"]) == (True, {}, {"current": "", "previous": ""})


def git(*args: str, cwd: Path) -> str:
    env = dict(
        os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t"
    )
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def cache(tmp_path: Path) -> tuple[Path, str, str]:
    """A bare repository with two commits on main, the first tagged v1 (annotated): (cache, first, second)."""
    work = tmp_path / "work"
    work.mkdir()
    git("init", "-q", "-b", "main", cwd=work)
    shas = []
    for n in (1, 2):
        (work / "f").write_text(str(n))
        git("add", "f", cwd=work)
        git("commit", "-qm", f"commit {n}", cwd=work)
        shas.append(git("rev-parse", "HEAD", cwd=work))
        if n == 1:
            git("tag", "-a", "v1", "-m", "one", cwd=work)
    git("clone", "-q", "--bare", str(work), str(tmp_path / "repo.git"), cwd=tmp_path)
    return tmp_path / "repo.git", shas[0], shas[1]


def test_info_reads_the_links_the_releases_and_the_leftovers(app):
    state = release_info.info(str(app), "", "")
    assert {k: state[k] for k in ["current_type", "current", "previous", "releases", "leftovers"]} == {
        "current_type": "link",
        "current": "r1",
        "previous": "",
        "releases": {"r1": "aaa", "r2": "bbb", "r3": ""},
        "leftovers": [".tmp-r4"],
    }
    assert len(state["stamp"]) == 14
    assert state["stamp"].isdigit()
    assert "sha" not in state


def test_info_resolves_a_version_and_names_the_release_holding_it_current_first(app, cache):
    repo, first, second = cache
    for name in ["r1", "r2"]:
        (app / "releases" / name / "REVISION").write_text(first + "\n")
    # Both hold the annotated tag's commit: current's is named.
    tagged = release_info.info(str(app), str(repo), "v1")
    assert (tagged["sha"], tagged["release"]) == (first, "r1")
    # current holds another commit: the newest release holding it.
    (app / "current").unlink()
    (app / "current").symlink_to("releases/r3")
    assert release_info.info(str(app), str(repo), first[:10])["release"] == "r2"
    # A commit no release holds; a name the cache does not know; no cache.
    branch = release_info.info(str(app), str(repo), "main")
    assert (branch["sha"], branch["release"]) == (second, "")
    assert release_info.info(str(app), str(repo), "nope")["sha"] == ""
    assert release_info.info(str(app), "", "main")["sha"] == ""


def test_info_of_a_base_directory_that_does_not_exist_reads_as_empty(tmp_path):
    state = release_info.info(str(tmp_path / "new"), "", "")
    assert (state["current_type"], state["releases"], state["leftovers"]) == ("none", {}, [])


def test_info_run_as_app_code_runs_it_answers_as_the_module(app, cache):
    """module_utils/releases.py's text, then release_info.py's, as one script: python3 -c <text> <options as JSON>
    (app_code's fetch.yml over raw; the host's python3 has no Ansible to import)."""
    repo, _first, _second = cache
    text = (ROOT / "plugins" / "module_utils" / "releases.py").read_text()
    text += (ROOT / "plugins" / "modules" / "release_info.py").read_text()
    options = {"root": str(app), "cache": str(repo), "version": "main"}
    done = subprocess.run(
        ["/usr/bin/python3", "-c", text, json.dumps(options)], capture_output=True, text=True, check=True
    )
    answer = json.loads(done.stdout.splitlines()[-1])
    expected = release_info.info(str(app), str(repo), "main")
    del answer["stamp"], expected["stamp"]  # the host's clock, read once by each
    assert answer == {"changed": False, **expected}
    assert answer["sha"]


def _switch_script(options: dict) -> subprocess.CompletedProcess:
    """module_utils/releases.py's text, then release_switch.py's, as app_code's switch.yml runs it over raw."""
    text = (ROOT / "plugins" / "module_utils" / "releases.py").read_text()
    text += (ROOT / "plugins" / "modules" / "release_switch.py").read_text()
    return subprocess.run(["/usr/bin/python3", "-c", text, json.dumps(options)], capture_output=True, text=True)


def test_the_switch_run_as_a_script_answers_as_the_module_and_switches(app, tmp_path_factory):
    twin = tmp_path_factory.mktemp("twin") / "app"
    shutil.copytree(app, twin, symlinks=True)
    done = _switch_script({"root": str(app), "release": "r2", "check_mode": False})
    assert done.returncode == 0
    answer = json.loads(done.stdout.splitlines()[-1])
    expected = release_switch.switch(str(twin), "r2", False)
    for state in (answer, expected):
        state.pop("diff")  # names its root
    assert answer == expected
    assert links(app) == links(twin) == {"current": "releases/r2", "previous": "releases/r1"}


def test_the_switch_script_in_check_mode_changes_nothing(app):
    before = links(app)
    done = _switch_script({"root": str(app), "release": "r2", "check_mode": True})
    assert json.loads(done.stdout.splitlines()[-1])["changed"] is True
    assert links(app) == before


@pytest.mark.parametrize("release", ["../etc", ".."])
def test_the_switch_script_refuses_a_path_on_stderr_and_exit_1(app, release):
    done = _switch_script({"root": str(app), "release": release})
    assert done.returncode == 1
    assert done.stdout == ""
    assert "is not a release name" in done.stderr
