"""python_venv: venvs built from requirements files, as their users see them.

converge.yml built r1 (six 1.16.0, hash-checking mode), r2 (six 1.17.0), r4 (r1's bytes again) and
r3 (idna 3.10 from a local wheelhouse, the only index unreachable); prepare.yml recorded the system
Python's site-packages before the role ran.
"""

import re

import pytest
from venvs import RELEASES, ROOT, apply, failed_build, recap_changed, venv_import, venv_listing, venv_of

SITE_DIRS = "python3 -c 'import site; print(\"\\n\".join(site.getsitepackages()))'"


def test_package_imports_from_the_venv(host):
    version, prefix = venv_import(host, "r1", "six").split()
    assert version == "1.16.0"
    assert prefix == f"{RELEASES}/r1/.venv" or prefix == venv_of(host, "r1")


def test_venv_path_is_the_hash_under_the_root_and_marked_complete(host):
    venv = venv_of(host, "r1")
    assert re.fullmatch(rf"{ROOT}/[0-9a-f]{{16}}", venv)
    requirements_sha = host.check_output(f"sha256sum {RELEASES}/r1/requirements.txt").split()[0]
    marker = host.file(f"{venv}/.python_venv_complete").content_string
    assert f"requirements sha256 {requirements_sha}" in marker
    python_version = host.check_output("python3 -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])'")
    assert f"python /usr/bin/python3 {python_version}" in marker


def test_venv_is_owned_by_the_app_user(host):
    venv = venv_of(host, "r1")
    assert host.file(ROOT).user == "app"
    assert host.file(venv).user == "app"
    assert host.file(venv).group == "app"
    assert host.check_output(f"find {venv} \\( ! -user app -o ! -group app \\) -print") == ""
    assert host.file(f"{RELEASES}/r1/.venv").is_symlink


def test_pip_setuptools_wheel_are_pinned(host):
    venv = venv_of(host, "r2")
    code = "from importlib.metadata import version as v; print(v('pip'), v('setuptools'), v('wheel'))"
    assert host.check_output(f'{venv}/bin/python -c "{code}"') == "26.3 84.2.1 0.45.1"


def test_changed_requirements_get_a_second_venv(host):
    assert venv_of(host, "r2") != venv_of(host, "r1")
    assert venv_import(host, "r2", "six").split()[0] == "1.17.0"
    assert venv_import(host, "r1", "six").split()[0] == "1.16.0"


def test_same_requirements_share_one_venv(host):
    assert venv_of(host, "r4") == venv_of(host, "r1")


def test_system_python_is_untouched(host):
    stdlib = host.check_output("python3 -c 'import sysconfig; print(sysconfig.get_path(\"stdlib\"))'")
    assert host.file(f"{stdlib}/EXTERNALLY-MANAGED").is_file
    assert host.run("python3 -c 'import six'").rc != 0
    assert host.run("python3 -m pip --version").rc != 0
    # Whatever the system's site-packages gained since prepare.yml came from Debian packages (Ansible's apt
    # module pulls python3-apt), none from pip: /usr/local's stays as it was, everything else belongs to dpkg.
    before = host.file("/root/system-site-packages.before").content_string.split("== ")
    for site_dir in host.check_output(SITE_DIRS).splitlines():
        entries = host.check_output(f"ls -A {site_dir} 2>/dev/null || true").split()
        if site_dir.startswith("/usr/local/"):
            assert any(block.split() == [site_dir, *entries] for block in before), (site_dir, entries)
        if entries:
            owners = host.run("dpkg -S " + " ".join(f"{site_dir}/{entry}" for entry in entries))
            assert owners.rc == 0, owners.stderr


def test_wheelhouse_venv_was_installed_offline(host):
    venv = venv_of(host, "r3")
    assert venv not in (venv_of(host, "r1"), venv_of(host, "r2"))
    assert venv_import(host, "r3", "idna").split()[0] == "3.10"
    assert host.check_output(f"{venv}/bin/python -m pip --version").startswith("pip 26.3 ")


@pytest.mark.parametrize(
    ("extra_vars", "message"),
    [
        ({"python_venv_keep": 0}, "python_venv_keep must be at least 1"),
        ({"python_venv_requirements_file": f"{RELEASES}/missing/requirements.txt"}, "python_venv_requirements_file"),
        ({"python_venv_owner": "nobody-here"}, "python_venv_owner 'nobody-here'"),
        (
            {"python_venv_requirements_file": f"{RELEASES}/nolock/pyproject.toml"},
            f"python_venv_requirements_file {RELEASES}/nolock/pyproject.toml names a uv project, but "
            f"{RELEASES}/nolock/uv.lock is not a file beside it",
        ),
        (
            {"python_venv_ensure_packages": [{"module": "gunicorn", "requirement": "gunicorn>=23"}]},
            "python_venv_ensure_packages items need a module (an import name, or a list of them) and a requirement "
            'pinned as name==version, got modules ["gunicorn"] and requirements ["gunicorn>=23"]',
        ),
    ],
)
def test_bad_input_is_refused_before_any_change(host, run_playbook, extra_vars, message):
    before = venv_listing(host)
    inputs = {"python_venv_requirements_file": f"{RELEASES}/r1/requirements.txt"} | extra_vars
    result = apply(host, run_playbook, **inputs)
    assert result.returncode != 0, result.stdout
    assert message in result.stdout
    assert recap_changed(result.stdout) == 0, result.stdout
    assert venv_listing(host) == before


def test_nonexistent_package_fails_with_pips_message(host, run_playbook):
    output = failed_build(host, run_playbook, "nonexistent")
    assert "No matching distribution found for this-package-does-not-exist-djangoops==1.0" in output


def test_wheelhouse_mode_never_asks_an_index(host, run_playbook):
    # six is on the reachable default index but not in the wheelhouse: the build must not find it.
    output = failed_build(host, run_playbook, "not-in-wheelhouse", python_venv_wheelhouse="/srv/wheelhouse")
    assert "No matching distribution found for six==1.16.0" in output


def test_hash_checking_mode_refuses_a_requirement_without_hash(host, run_playbook):
    output = failed_build(host, run_playbook, "unhashed", python_venv_require_hashes=True)
    assert "Hashes are required in --require-hashes mode" in output
