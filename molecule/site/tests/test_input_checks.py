"""app_check_inputs: changed (the default) skips the preflight's checks that read only the inputs when the same
inputs passed them on the host before: the fingerprint of the inputs, of the inventory's groups and of the
roles' and plugins' files is recorded on the host (root only: it covers the secrets) after the checks pass.
Input that fails a check is never recorded, so it is refused however often it is tried (test_contract.py runs
its whole battery against hosts that hold a record); what the fingerprints leave out (the version to deploy, each
role's <role>_setup) is checked on every run. A site run records the fingerprint of the checks a deploy runs too."""

import json

SITE, DEPLOY = "../../site.yml", "../../playbooks/deploy.yml"
RECORD = "/etc/ansible/facts.d/djangoops_inputs_notes.fact"
# A check of roles/app/tasks/inputs.yml, one of django's input checks, and the check that runs when they are skipped.
INPUT_CHECK = "app : Check the names"
ROLE_CHECK = "django : Check the django inputs"
VERSION_CHECK = "Check the version to deploy and the roles' setup modes"


def test_a_deploy_skips_the_input_checks_that_passed_before(host, run_playbook, task_hosts):
    name = host.backend.name
    # A site run with this scenario's inputs records them (earlier tests deployed with others), for the deploys too:
    # it checked a superset of their roles, and each role's setup mode (what differs) is left out.
    first = run_playbook(SITE, limit=name)
    assert first.returncode == 0, first.stdout[-3000:]
    result = run_playbook(DEPLOY, limit=name)
    assert result.returncode == 0, result.stdout[-3000:]
    assert task_hosts(result.stdout, INPUT_CHECK) == []
    assert task_hosts(result.stdout, ROLE_CHECK) == []
    assert task_hosts(result.stdout, VERSION_CHECK) == [("ok", name)]
    record = host.file(RECORD)
    assert (record.user, record.group, record.mode) == ("root", "root", 0o600)
    fingerprints = json.loads(record.content_string)["fingerprints"]
    # One per set of roles checked: site.yml's (the converge) and deploy.yml's (the app tier's and the backup's),
    # each kept.
    assert set(fingerprints) == {
        "firewall,postgresql,app_code,python_venv,django,gunicorn,nginx,letsencrypt,backup",
        "app_code,python_venv,django,gunicorn,backup",
    }, fingerprints


def test_input_that_fails_a_check_is_refused_after_a_recorded_run(host, run_playbook, task_hosts):
    name = host.backend.name
    result = run_playbook(DEPLOY, {"app_keep_releases": 0}, limit=name)
    assert result.returncode != 0
    assert "app_keep_releases must be 1 or more" in result.stdout
    # The version alone changed: the other checks are skipped, the version's own check refuses it.
    result = run_playbook(DEPLOY, {"app_version": "main branch"}, limit=name)
    assert result.returncode != 0
    assert task_hosts(result.stdout, INPUT_CHECK) == []
    assert ("fatal", name) in task_hosts(result.stdout, VERSION_CHECK)
    assert "app_version must be a branch, tag or commit sha" in result.stdout
    # A role's setup mode is left out of the fingerprint; a bad one is refused by the same check. (Setting it with
    # -e adds its name to the inventory's names, which the fingerprint covers: the first run checks everything.)
    result = run_playbook(DEPLOY, {"gunicorn_setup": "always"}, limit=name)
    assert result.returncode == 0, result.stdout[-3000:]
    result = run_playbook(DEPLOY, {"gunicorn_setup": "bogus"}, limit=name)
    assert result.returncode != 0
    assert task_hosts(result.stdout, INPUT_CHECK) == []
    assert ("fatal", name) in task_hosts(result.stdout, VERSION_CHECK)
    assert "value of gunicorn_setup must be one of: always, changed, verified, got: bogus" in result.stdout


def test_app_check_inputs_always_runs_every_check(host, run_playbook, task_hosts):
    name = host.backend.name
    result = run_playbook(DEPLOY, {"app_check_inputs": "always"}, limit=name)
    assert result.returncode == 0, result.stdout[-3000:]
    assert set(task_hosts(result.stdout, INPUT_CHECK)) == {("ok", name)}
    assert ("ok", name) in task_hosts(result.stdout, ROLE_CHECK)
    assert set(task_hosts(result.stdout, VERSION_CHECK)) == {("skipping", name)}
