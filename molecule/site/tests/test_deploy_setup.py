"""deploy.yml skips the app tier's host setup that is as recorded on the host (app_deploy_setup: changed); site.yml
too when the state the setup left is as recorded (app_site_setup: verified).

site.yml records, on the host, a fingerprint of each app-tier role's setup (the role's files and its
inputs, but the secrets and the release). A deploy with the same fingerprint does only the release's
work; a changed input runs that role's setup again; app_deploy_setup=always runs every setup.
"""

import re

from site_runs import changed_tasks, recap, warnings

# pebble_root (autouse): the CA file health() verifies the site's certificate with.
from test_site import health, pebble_root  # noqa: F401

SITE, DEPLOY = "../../site.yml", "../../playbooks/deploy.yml"
ROLES = {"app_code", "python_venv", "django", "gunicorn"}
# Some tasks of each role's setup.
SETUP_TASKS = {
    "app_code": {"Create the app user (no login shell)"},
    "django": {"Install the settings overlay's modules"},
    "gunicorn": {"Install gunicorn.conf.py", "Install the socket unit", "Install the service unit"},
}


def skipped(stdout: str) -> set[str]:
    """The roles whose setup the run skipped, from their report."""
    return set(re.findall(r"djangoops_setup_([a-z_]+?)(?:_notes)?\.fact\): skipped", stdout))


def gunicorn_timeout(host) -> str:
    return host.check_output("grep -E '^timeout = ' /etc/notes/gunicorn.conf.py")


def listed_setup_tasks(stdout: str, roles: set[str]) -> set[str]:
    """The setup tasks of `roles` the run listed: a skipped setup costs one skipped include, not a
    skipped task for each of its tasks."""
    listed = set(re.findall(r"^TASK \[djangoops\.django\.[a-z_]+ : (.*)\] \**$", stdout, re.MULTILINE))
    return listed & set().union(*(SETUP_TASKS.get(role, set()) for role in roles))


def test_a_changed_input_runs_that_roles_setup(host, run_playbook):
    """The first deploy after the site (earlier tests may have pushed a commit: it may ship it): the setups
    the site recorded are skipped, but gunicorn's, whose input changed."""
    result = run_playbook(DEPLOY, {"gunicorn_timeout": 45}, limit=host.backend.name)
    assert result.returncode == 0, result.stdout[-3000:]
    assert skipped(result.stdout) == ROLES - {"gunicorn"}
    assert listed_setup_tasks(result.stdout, ROLES - {"gunicorn"}) == set()
    changed = changed_tasks(result.stdout).get(host.backend.name, [])
    assert not [task for task in changed if task.split(" : ")[-1] in SETUP_TASKS["app_code"] | SETUP_TASKS["django"]]
    assert gunicorn_timeout(host) == "timeout = 45"
    assert "djangoops.django.gunicorn : Install gunicorn.conf.py" in changed
    assert health(host)["status"] == "ok"


def test_app_deploy_setup_always_runs_every_setup(host, run_playbook):
    result = run_playbook(DEPLOY, {"app_deploy_setup": "always"}, limit=host.backend.name)
    assert result.returncode == 0, result.stdout[-3000:]
    assert skipped(result.stdout) == set()
    # Every role of the tier ran, some modules as the app user (whose home is root's): nothing to warn about.
    assert warnings(result.stdout) == []
    # The fingerprint of gunicorn's setup changed back: its configuration is the site's again.
    assert gunicorn_timeout(host) == "timeout = 30"
    assert health(host)["status"] == "ok"
    # Recorded: the next deploy skips every setup again, lists none of their tasks, and changes nothing.
    result = run_playbook(DEPLOY, limit=host.backend.name)
    assert result.returncode == 0, result.stdout[-3000:]
    assert skipped(result.stdout) == ROLES
    assert listed_setup_tasks(result.stdout, ROLES) == set()
    assert recap(result.stdout)[host.backend.name]["changed"] == 0
    assert health(host)["status"] == "ok"


def test_site_puts_a_drifted_setup_right_and_skips_the_others(host, run_playbook):
    """site.yml (app_site_setup: verified) reads the state each role's setup left and compares it with the
    digest recorded after the setup: configuration files edited by hand, a directory's and a file's mode and a
    disabled unit run those roles' setups again, which put them right; the setups as they were left are
    skipped. The records it writes then let a deploy skip every setup and change nothing."""
    host.run_expect(
        [0],
        "set -e; echo '# edited by hand' >> /etc/notes/gunicorn.conf.py; chmod 0700 /srv/notes/shared; "
        "systemctl disable -q notes.socket; echo '# edited by hand' >> /etc/nginx/sites-available/notes.conf; "
        "chmod 0700 /etc/nftables.conf",
    )
    result = run_playbook(SITE, limit=host.backend.name)
    assert result.returncode == 0, result.stdout[-3000:]
    assert skipped(result.stdout) == {"python_venv", "django", "letsencrypt", "postgresql"}
    assert "edited by hand" not in host.file("/etc/notes/gunicorn.conf.py").content_string
    assert "edited by hand" not in host.file("/etc/nginx/sites-available/notes.conf").content_string
    assert host.file("/srv/notes/shared").mode == 0o755
    assert host.file("/etc/nftables.conf").mode == 0o755
    assert host.service("notes.socket").is_enabled
    changed = changed_tasks(result.stdout).get(host.backend.name, [])
    assert "djangoops.django.gunicorn : Install gunicorn.conf.py" in changed
    assert "djangoops.django.nginx : Install the site" in changed
    assert health(host)["status"] == "ok"

    result = run_playbook(DEPLOY, {"app_deploy_setup": "verified"}, limit=host.backend.name)
    assert result.returncode == 0, result.stdout[-3000:]
    assert skipped(result.stdout) == ROLES
    assert recap(result.stdout)[host.backend.name]["changed"] == 0


def test_a_deploy_that_changes_no_setting_calls_nothing_for_what_is_in_place(host, run_playbook, task_hosts):
    """The live environment file, the release's link to its virtualenv and `current` are read with the rest (their
    checksum, target, owner, mode): a deploy that changes none of them writes, installs and switches nothing; and
    the release the running Gunicorn master serves is not imported again."""
    name = host.backend.name
    result = run_playbook(DEPLOY, limit=name)
    assert result.returncode == 0, result.stdout[-3000:]
    for task in (
        "django : Write the environment file for this release",
        "django : Install the environment file",
        "python_venv : Point the link at the virtualenv",
        "app_code : Switch current to the release",
        "gunicorn : Check that the release imports its WSGI app in the service's sandbox",
    ):
        assert task_hosts(result.stdout, task) == [("skipping", name)], task
    assert recap(result.stdout)[name]["changed"] == 0


def test_a_deploy_puts_a_hand_edited_environment_file_right(host, run_playbook, task_hosts):
    """The comparison covers the content, the owner and the mode: a file edited by hand is written again, and
    Gunicorn checks the release with it and reloads to read it."""
    name = host.backend.name
    host.run_expect([0], "set -e; echo '# edited by hand' >> /etc/notes/env; chmod 0644 /etc/notes/env")
    result = run_playbook(DEPLOY, limit=name)
    assert result.returncode == 0, result.stdout[-3000:]
    env = host.file("/etc/notes/env")
    assert "edited by hand" not in env.content_string
    assert (env.user, env.group, env.mode) == ("root", "notes", 0o640)
    assert task_hosts(result.stdout, "django : Install the environment file") == [("changed", name)]
    assert re.search(
        r"^TASK \[djangoops\.django\.gunicorn : Import in the service's sandbox", result.stdout, re.MULTILINE
    )
    assert health(host)["status"] == "ok"
