"""Pruning keeps the newest venvs and every venv a release links to, whatever the age.

Runs the `prune` entry point on its own root (reached through a symlink, as a real path may be),
with placeholder venv directories whose completion markers carry chosen ages.
"""

import pytest

BASE = "/srv/prune"


@pytest.fixture(scope="module")
def pruned(host, run_playbook):
    setup = f"""
        set -eu
        rm -rf {BASE}
        mkdir -p {BASE}/real-venvs {BASE}/releases/rel-abs {BASE}/releases/rel-rel {BASE}/releases/rel-none
        ln -s real-venvs {BASE}/venvs
        age=5
        for v in v1 v2 v3 v4; do
          mkdir -p {BASE}/real-venvs/$v/bin
          touch -d "$age days ago" {BASE}/real-venvs/$v/.python_venv_complete
          age=$((age - 1))
        done
        mkdir -p {BASE}/real-venvs/v0/bin
        ln -s {BASE}/venvs/v1 {BASE}/releases/rel-abs/.venv
        ln -s ../../real-venvs/v2 {BASE}/releases/rel-rel/.venv
        chown -R app:app {BASE}
    """
    host.check_output(f"bash -c '{setup}'")
    extra_vars = {
        "entry_point": "prune",
        "python_venv_app_name": "app",
        "python_venv_root": f"{BASE}/venvs",
        "python_venv_releases_dir": f"{BASE}/releases",
        "python_venv_keep": 1,
    }
    result = run_playbook("apply.yml", extra_vars, limit=host.backend.name)
    assert result.returncode == 0, result.stdout
    return result


@pytest.mark.parametrize(
    ("venv", "kept"),
    [
        ("v4", True),  # the newest
        ("v1", True),  # oldest, but a release links to it by an absolute path through the root's symlink
        ("v2", True),  # a release links to it by a relative path
        ("v3", False),  # neither newest nor used
        ("v0", True),  # no completion marker: not a built venv, never touched by pruning
    ],
)
def test_prune_keeps_newest_and_used_venvs(host, pruned, venv, kept):
    assert host.file(f"{BASE}/real-venvs/{venv}").exists is kept
