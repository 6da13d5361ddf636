"""python_venv: uv projects and ensured packages, as their users see them.

converge.yml built u1 (a uv project: idna 3.10 in its uv.lock), u2 (the same pyproject.toml, a lock with
idna 3.9; named by its pyproject.toml), u5 (u1's files, with ENSURED), r5 (requirements.txt with six
1.17.0, with ENSURED), u6 (a workspace: the project and a member package) and u3 (idna 3.10 from the
wheelhouse, the only index unreachable).
"""

import json
import re

from venvs import RELEASES, ROOT, UV_VERSION, apply, failed_build, recap_changed, venv_import, venv_listing, venv_of

# converge.yml's ensure_six_and_idna: versions neither release has, so a version tells who installed it.
ENSURED = [
    {"module": "six", "requirement": "six==1.16.0"},
    {"module": ["idna", "idna_not_installed"], "requirement": "idna==3.8"},
]


def sha256(host, path: str) -> str:
    return host.check_output(f"sha256sum {path}").split()[0]


def test_uv_project_venv_imports_its_locked_dependency(host):
    version, prefix = venv_import(host, "u1", "idna").split()
    assert version == "3.10"
    assert prefix in (f"{RELEASES}/u1/.venv", venv_of(host, "u1"))


def test_uv_venv_is_named_by_both_files_the_python_and_uv(host):
    venv = venv_of(host, "u1")
    assert re.fullmatch(rf"{ROOT}/[0-9a-f]{{16}}", venv)
    marker = host.file(f"{venv}/.python_venv_complete").content_string
    for name in ("pyproject.toml", "uv.lock"):
        assert f"{name} sha256 {sha256(host, f'{RELEASES}/u1/{name}')}" in marker
    assert f"\nuv {UV_VERSION}\n" in marker
    assert host.check_output(f"find {venv} \\( ! -user app -o ! -group app \\) -print") == ""


def test_uv_venv_uses_debians_python_and_has_no_pip(host):
    venv = venv_of(host, "u1")
    assert host.check_output(f"{venv}/bin/python -c 'import sys; print(sys.base_prefix)'") == "/usr"
    assert host.run(f"{venv}/bin/python -m pip --version").rc != 0
    # No uv-managed Python was downloaded into the owner's home.
    assert not host.file("/srv/app/.local/share/uv/python").exists


def test_uv_is_pinned_in_its_own_venv_under_the_root(host):
    version = host.check_output(f"sudo -u app {ROOT}/.uv-{UV_VERSION}/bin/uv --version")
    assert version.split()[:2] == ["uv", UV_VERSION]
    assert host.file(f"{ROOT}/.uv-cache").user == "app"


def test_workspace_member_is_copied_into_the_venv_not_linked_to_the_release(host):
    venv = venv_of(host, "u6")
    module = host.check_output(f"sudo -u app {venv}/bin/python -I -c 'import djangoops_helper as m; print(m.__file__)'")
    assert module.startswith(f"{venv}/lib/")
    assert host.check_output(f"grep -rl {RELEASES} {venv}/lib --include=*.pth || true") == ""


def test_changed_lock_gets_a_second_venv(host):
    assert sha256(host, f"{RELEASES}/u2/pyproject.toml") == sha256(host, f"{RELEASES}/u1/pyproject.toml")
    assert venv_of(host, "u2") != venv_of(host, "u1")
    assert venv_import(host, "u2", "idna").split()[0] == "3.9"
    assert venv_import(host, "u1", "idna").split()[0] == "3.10"


def test_ensured_packages_are_added_only_when_missing(host):
    # uv project: six was missing (added with uv), idna is the lock's.
    assert venv_import(host, "u5", "six").split()[0] == "1.16.0"
    assert venv_import(host, "u5", "idna").split()[0] == "3.10"
    # requirements.txt: idna was missing (added with pip), six is the requirements'.
    assert venv_import(host, "r5", "idna").split()[0] == "3.8"
    assert venv_import(host, "r5", "six").split()[0] == "1.17.0"
    # The ensured list is part of the recipe: u5 has u1's files but a venv of its own.
    assert venv_of(host, "u5") != venv_of(host, "u1")
    added = json.loads(host.file(f"{venv_of(host, 'u5')}/.python_venv_added.json").content_string)
    assert added == [{"module": ["six"], "requirement": "six==1.16.0"}]


def test_uv_project_applied_again_changes_nothing_and_reports_what_was_added(host, run_playbook):
    before = venv_listing(host)
    venv = venv_of(host, "u5")
    result = apply(
        host,
        run_playbook,
        python_venv_requirements_file=f"{RELEASES}/u5/uv.lock",
        python_venv_link=f"{RELEASES}/u5/.venv",
        python_venv_ensure_packages=ENSURED,
    )
    assert result.returncode == 0, result.stdout
    assert recap_changed(result.stdout) == 0, result.stdout
    assert venv_listing(host) == before
    assert venv_of(host, "u5") == venv
    assert f"The requirements lack six: added six==1.16.0 to the virtualenv {venv}" in result.stdout
    assert 'python_venv_added_packages=[\\"six==1.16.0\\"]' in result.stdout, result.stdout[-3000:]


def test_uv_project_in_check_mode_changes_nothing(host, run_playbook):
    # u4 has no venv (its build fails, below): check mode must neither build one nor fail.
    before = venv_listing(host)
    result = apply(
        host,
        run_playbook,
        args=["--check"],
        python_venv_requirements_file=f"{RELEASES}/u4/uv.lock",
        python_venv_link=f"{RELEASES}/u4/.venv",
        python_venv_ensure_packages=ENSURED,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert venv_listing(host) == before
    assert not host.file(f"{RELEASES}/u4/.venv").exists
    assert "python_venv_added_packages=[]" in result.stdout


def test_uv_wheelhouse_venv_was_installed_offline(host):
    venv = venv_of(host, "u3")
    assert venv_import(host, "u3", "idna").split()[0] == "3.10"
    # The index list (which may hold credentials) and the exported requirements are gone.
    for leftover in (".python_venv_uv_indexes.txt", ".python_venv_uv_requirements.txt"):
        assert not host.file(f"{venv}/{leftover}").exists


def test_uv_wheelhouse_mode_never_asks_an_index(host, run_playbook):
    # six is at the lock's URL and on the default index, but not in the wheelhouse: the build must not find it.
    output = failed_build(
        host,
        run_playbook,
        "u4",
        python_venv_requirements_file=f"{RELEASES}/u4/uv.lock",
        python_venv_wheelhouse="/srv/wheelhouse",
    )
    assert "six was not found in the provided package locations" in output
