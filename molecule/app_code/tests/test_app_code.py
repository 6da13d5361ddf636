"""app_code as a user sees it: releases from a git repository inside the container.

converge.yml deployed the tag v1 of /srv/git/app.git as the app `demo` (idempotence then ran it
again). The tests below run in file order and build on each other's state: deploy the branch,
roll back, redeploy, refuse bad input, prune, then an SSH remote with a deploy key.
"""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

SRC = "/srv/git/app.git"
ROOT = "/srv/demo"
RELEASE_NAME = re.compile(r"^\d{14}-[0-9a-f]{12}$")
# What the app's base directory may hold: no .current.new, no ansible.builtin.file's .<pid>.<time>.tmp link.
ROOT_ENTRIES = {"current", "previous", "releases", "shared", "repo.git", ".ssh"}
GIT_ENV = "GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.org GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.org"


def sha(host, rev: str, repo: str = SRC) -> str:
    return host.check_output(f"git --git-dir={repo} rev-parse '{rev}^{{commit}}'")


def releases(host, root: str = ROOT) -> list[str]:
    return sorted(host.check_output(f"ls -A {root}/releases").split())


def link(host, name: str, root: str = ROOT) -> str:
    return host.run(f"readlink {root}/{name}").stdout.strip()


def release_of(host, commit: str, root: str = ROOT) -> str:
    """The release directory whose REVISION holds this commit."""
    revision = f"{commit}\n"
    names = [n for n in releases(host, root) if host.file(f"{root}/releases/{n}/REVISION").content_string == revision]
    assert len(names) == 1, names
    return names[0]


def changed(result) -> int:
    return sum(int(n) for n in re.findall(r"\bchanged=(\d+)", result.stdout))


def assert_links(host, current: str, previous: str, root: str = ROOT) -> None:
    """current and previous are symlinks to these releases; no temporary link or build is left over."""
    for name, release in (("current", current), ("previous", previous)):
        assert host.file(f"{root}/{name}").is_symlink, name
        assert link(host, name, root) == f"releases/{release}", name
    assert set(host.check_output(f"ls -A {root}").split()) <= ROOT_ENTRIES
    assert [name for name in releases(host, root) if name.startswith(".")] == []


@pytest.fixture
def deploy(host, run_playbook):
    def _deploy(playbook: str = "deploy.yml", **extra_vars):
        return run_playbook(playbook, extra_vars, limit=host.backend.name)

    return _deploy


@pytest.fixture
def deploy_check(host):
    """A playbook of the scenario run with --check --diff (output and errors in stdout)."""

    def _deploy_check(playbook: str = "deploy.yml", **extra_vars):
        scenario = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"])
        cmd = ["ansible-playbook", "--check", "--diff", "-i", os.environ["MOLECULE_INVENTORY_FILE"]]
        cmd += [str(scenario / playbook), "--extra-vars", json.dumps(extra_vars), "--limit", host.backend.name]
        env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
        return subprocess.run(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600, check=False
        )

    return _deploy_check


def test_app_user_is_a_system_user_without_login_shell(host):
    user = host.user("demo")
    assert user.exists
    assert user.group == "demo"
    assert user.shell == "/usr/sbin/nologin"
    assert user.uid < 1000


@pytest.mark.parametrize(
    ("path", "owner", "group", "mode"),
    [
        (ROOT, "root", "demo", 0o755),
        (f"{ROOT}/releases", "root", "demo", 0o755),
        (f"{ROOT}/shared", "demo", "demo", 0o755),
        (f"{ROOT}/shared/media", "demo", "demo", 0o755),
        (f"{ROOT}/shared/static", "demo", "demo", 0o755),
        (f"{ROOT}/repo.git", "root", "root", 0o700),
    ],
)
def test_layout(host, path, owner, group, mode):
    directory = host.file(path)
    assert directory.is_directory
    assert (directory.user, directory.group, directory.mode) == (owner, group, mode)


def test_current_is_the_release_of_the_tag(host):
    tag = sha(host, "v1")
    target = link(host, "current")
    assert target.startswith("releases/")
    name = target.removeprefix("releases/")
    assert RELEASE_NAME.match(name)
    assert name.endswith(tag[:12])
    assert host.file(f"{ROOT}/current/REVISION").content_string == f"{tag}\n"
    # idempotence ran the same deploy again: still one release
    assert releases(host) == [name]


def test_release_is_the_tree_owned_by_the_app_user(host):
    assert host.file(f"{ROOT}/current/app.txt").content_string == "one\n"
    assert host.file(f"{ROOT}/current/example/manage.py").exists
    assert not host.file(f"{ROOT}/current/.git").exists
    script = host.file(f"{ROOT}/current/bin/run.sh")
    assert (script.user, script.group, script.mode) == ("demo", "demo", 0o755)
    assert host.file(f"{ROOT}/current/app.txt").mode == 0o644


def test_cache_is_a_bare_repository_of_branches_and_tags(host):
    cache = f"{ROOT}/repo.git"
    assert host.check_output(f"git --git-dir={cache} rev-parse --is-bare-repository") == "true"
    refs = host.check_output(f"git --git-dir={cache} for-each-ref --format='%(refname)'").split()
    assert refs == ["refs/heads/main", "refs/tags/v1"]


def test_deploying_the_branch_makes_a_release_and_switches_current(host, deploy):
    tag_release = release_of(host, sha(host, "v1"))
    result = deploy(app_code_version="main")
    assert result.returncode == 0, result.stdout
    main = sha(host, "main")
    main_release = release_of(host, main)
    assert releases(host) == sorted([tag_release, main_release])
    assert_links(host, current=main_release, previous=tag_release)
    assert host.file(f"{ROOT}/current/app.txt").content_string == "two\n"
    assert changed(result) > 0


def test_rollback_returns_to_the_release_current_pointed_at_before(host, deploy):
    tag_release, main_release = release_of(host, sha(host, "v1")), release_of(host, sha(host, "main"))
    # directory times must not matter: make the tag's release look like the newest one
    host.run(f"touch {ROOT}/releases/{tag_release}")
    host.run(f"touch -d '2001-01-01' {ROOT}/releases/{main_release}")
    result = deploy("rollback.yml")
    assert result.returncode == 0, result.stdout
    assert_links(host, current=tag_release, previous=main_release)
    assert host.file(f"{ROOT}/current/app.txt").content_string == "one\n"


def test_deploying_a_commit_that_has_a_release_reuses_it(host, deploy):
    before = releases(host)
    result = deploy(app_code_version="main")
    assert result.returncode == 0, result.stdout
    assert "created False" in result.stdout
    assert releases(host) == before
    assert link(host, "current") == f"releases/{release_of(host, sha(host, 'main'))}"


def test_rollback_to_a_named_release(host, deploy):
    tag_release = release_of(host, sha(host, "v1"))
    result = deploy("rollback.yml", app_code_rollback_to=tag_release)
    assert result.returncode == 0, result.stdout
    assert link(host, "current") == f"releases/{tag_release}"


def test_activate_a_release_in_a_run_of_its_own(host, deploy):
    tag_release, main_release = release_of(host, sha(host, "v1")), release_of(host, sha(host, "main"))
    result = deploy("activate.yml", app_code_activate_release=f"{ROOT}/releases/{main_release}")
    assert result.returncode == 0, result.stdout
    assert_links(host, current=main_release, previous=tag_release)
    assert releases(host) == sorted([tag_release, main_release])


def test_unknown_version_fails_naming_it_and_changes_no_release(host, deploy):
    version = "no-such-branch"
    before, current = releases(host), link(host, "current")
    result = deploy(app_code_version=version)
    assert result.returncode != 0
    assert (
        f"app_code_version '{version}' is not a branch, tag or commit of app_code_repo 'file:///srv/git/app.git'"
        in result.stdout
    )
    assert releases(host) == before
    assert link(host, "current") == current


def test_unreachable_repository_fails_naming_it_without_its_password(host, deploy, monkeypatch):
    # -vvv, as an operator debugging a deploy runs it: the password is in no line of it.
    monkeypatch.setenv("ANSIBLE_VERBOSITY", "3")
    before, current = releases(host), link(host, "current")
    result = deploy(app_code_repo="https://deployer:s3cret-token@127.0.0.1:9/app.git", app_code_version="main")
    assert result.returncode != 0
    assert (
        "Could not fetch app_code_repo 'https://deployer:***@127.0.0.1:9/app.git' for app_code_version 'main'"
        in result.stdout
    )
    assert "s3cret-token" not in result.stdout
    assert releases(host) == before
    assert link(host, "current") == current


@pytest.mark.parametrize("url", ["htps:/example.org/app.git", "--upload-pack=touch /tmp/x"])
def test_malformed_url_is_refused_before_anything_changes(host, deploy, url):
    result = deploy(app_code_repo=url)
    assert result.returncode != 0
    assert f"app_code_repo '{url}' is not a repository URL" in result.stdout
    assert changed(result) == 0


def test_failed_build_leaves_no_partial_release(host, deploy):
    # a repository with a 1 MiB file, and a releases/ too small to hold it
    host.check_output(
        f"set -e; rm -rf /root/big; git init -q -b main /root/big; cd /root/big;"
        f" head -c 1048576 /dev/urandom > big.bin; git add big.bin; {GIT_ENV} git commit -qm big;"
        f" git init -q --bare /srv/git/big.git; git push -q /srv/git/big.git main"
    )
    host.check_output("mkdir -p /srv/full/releases && mount -t tmpfs -o size=256k tmpfs /srv/full/releases")
    try:
        result = deploy(app_code_name="full", app_code_repo="file:///srv/git/big.git", app_code_version="main")
        assert result.returncode != 0
        assert (
            "Could not make a release of app_code_repo 'file:///srv/git/big.git' at app_code_version 'main'"
            in result.stdout
        )
        assert releases(host, "/srv/full") == []
        assert not host.file("/srv/full/current").exists
    finally:
        host.run("umount /srv/full/releases")


def test_pruning_keeps_the_newest_releases_and_never_the_previous_one(host, deploy):
    tag_release, main_release = release_of(host, sha(host, "v1")), release_of(host, sha(host, "main"))
    host.check_output(
        f"set -e; cd /root/src; for n in 3 4; do echo $n > app.txt; {GIT_ENV} git commit -qam c$n;"
        f" git tag c$n; done; git push -q {SRC} main c3 c4"
    )
    # keep 1: the branch's release stays as previous, the older tag's release goes
    result = deploy(app_code_version=sha(host, "c3"), app_code_keep_releases=1)
    assert result.returncode == 0, result.stdout
    c3_release = release_of(host, sha(host, "c3"))
    assert_links(host, current=c3_release, previous=main_release)
    assert releases(host) == sorted([main_release, c3_release])
    assert tag_release not in releases(host)

    # keep 2, after one more deploy: exactly the 2 newest remain
    result = deploy(app_code_version="main", app_code_keep_releases=2)
    assert result.returncode == 0, result.stdout
    c4_release = release_of(host, sha(host, "c4"))
    assert releases(host) == sorted([c3_release, c4_release])
    assert_links(host, current=c4_release, previous=c3_release)


def test_check_mode_previews_a_deploy_and_changes_nothing(host, deploy_check):
    # v1's release was pruned: --check resolves it in the cache and previews the build and the switch
    before, current, previous = releases(host), link(host, "current"), link(host, "previous")
    result = deploy_check(app_code_version="v1")
    assert result.returncode == 0, result.stdout
    assert f"sha {sha(host, 'v1')} created True" in result.stdout
    assert changed(result) > 0
    assert releases(host) == before
    assert (link(host, "current"), link(host, "previous")) == (current, previous)


def test_rolling_back_twice_returns_to_where_it_started(host, deploy):
    c3_release, c4_release = release_of(host, sha(host, "c3")), release_of(host, sha(host, "c4"))
    result = deploy("rollback.yml")
    assert result.returncode == 0, result.stdout
    assert_links(host, current=c3_release, previous=c4_release)
    assert host.file(f"{ROOT}/current/app.txt").content_string == "3\n"

    result = deploy("rollback.yml")
    assert result.returncode == 0, result.stdout
    assert_links(host, current=c4_release, previous=c3_release)
    assert host.file(f"{ROOT}/current/app.txt").content_string == "4\n"


# The SSH remote: git@localhost:app.git served by sshd, the deploy key made on the controller.
SSH_ROOT = "/srv/sshapp"
KEY_PATH = f"{SSH_ROOT}/.ssh/deploy_key"
SEARCHED = "/srv /root /home /tmp /var/tmp /etc /run"


@pytest.fixture(scope="module")
def key_line() -> str:
    """A line of the private key's body: found in no output and in no file of the host."""
    key = (Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "deploy_key").read_text().splitlines()
    return key[2]


def test_ssh_host_key_is_checked_and_a_kept_key_is_root_only(host, deploy):
    # the deploy key is kept (by option) and the fetch fails: the key stays, readable by root only
    result = deploy("deploy_ssh.yml", wrong_host_key=True, app_code_keep_deploy_key=True)
    assert result.returncode != 0
    assert "Could not fetch app_code_repo 'git@localhost:app.git' for app_code_version 'main'" in result.stdout
    assert "Host key verification failed" in result.stdout
    assert releases(host, SSH_ROOT) == []
    key = host.file(KEY_PATH)
    assert (key.user, key.group, key.mode) == ("root", "root", 0o600)
    assert host.file(f"{SSH_ROOT}/.ssh").mode == 0o700


def test_ssh_remote_is_deployed_and_the_key_is_gone(host, deploy, key_line, monkeypatch):
    # -vvv, as an operator debugging a deploy runs it: the key is in no line of it.
    monkeypatch.setenv("ANSIBLE_VERBOSITY", "3")
    result = deploy("deploy_ssh.yml")
    assert result.returncode == 0, result.stdout
    revision = host.file(f"{SSH_ROOT}/current/REVISION").content_string
    assert revision == sha(host, "main", "/home/git/app.git") + "\n"
    assert not host.file(KEY_PATH).exists
    assert key_line not in result.stdout
    found = host.run(f"grep -rlF -- '{key_line}' {SEARCHED}")
    assert found.rc == 1, found.stdout


def test_ssh_redeploy_changes_nothing(host, deploy):
    # the key is written and removed again, which leaves the host as it was: no change reported
    result = deploy("deploy_ssh.yml")
    assert result.returncode == 0, result.stdout
    assert changed(result) == 0, result.stdout
    assert not host.file(KEY_PATH).exists
