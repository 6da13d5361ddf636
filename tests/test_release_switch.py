"""current and previous switched in one call (plugins/modules/release_switch.py), as app_code's activation and
rollback use it: the links, what blocks a switch, check mode."""

import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("release_switch", ROOT / "plugins" / "modules" / "release_switch.py")
release_switch = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(release_switch)


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
