"""Check mode on the provisioned site, as an operator uses it before a change: `site.yml --check --diff`
reports no change; with one input changed it reports that file's diff (and the reload it would cause)
and writes nothing; `deploy.yml --check` after a push names the commit it would deploy and makes no
release. Each playbook runs once against the scenario's instances, and every host's fingerprint (files under
/etc and /srv, the links, the cache's refs, service restarts and reloads) must be the same after it.

These tests take no `host` fixture, so testinfra runs each once (not once per host)."""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from site_runs import changed_tasks, instances, recap, sh, sh_each, warnings

SITE, DEPLOY = "../../site.yml", "../../playbooks/deploy.yml"
APP = "notes"
# One input that reaches one rendered file: nginx's vhost, which the web tier renders twice (before and
# after the certificate); a real run changes it once and reloads nginx once.
VHOST = f"/etc/nginx/sites-available/{APP}.conf"
BODY_SIZE = "25m"
CHECK = ["--check", "--diff"]

# What a run that changes nothing must leave as it was. Sources and the bare repository (prepare.yml)
# are left out: the deploy test pushes a commit there first.
FINGERPRINT = rf"""
set -u
echo "files $(find /etc /srv -xdev \( -path /srv/{APP}/shared/media -o -path /srv/src -o -path /srv/git \) -prune \
  -o -printf '%p %y %s %m %u %g %T@ %l\n' 2>/dev/null | sort | sha256sum)"
echo "releases $(ls /srv/{APP}/releases | tr '\n' ' ')"
echo "links $(readlink /srv/{APP}/current /srv/{APP}/previous | tr '\n' ' ')"
echo "cache $(git --git-dir=/srv/{APP}/repo.git for-each-ref | sha256sum)"
echo "vhost $(sha256sum {VHOST})"
postgresql=$(systemctl list-units --plain --no-legend 'postgresql@*' | cut -d' ' -f1)
for unit in {APP}.socket {APP}.service nginx.service $postgresql; do
  echo "unit:$unit $(systemctl show --property=MainPID,ExecMainStartTimestamp --value "$unit" | tr '\n' ' ')"
done
echo "reloads $(journalctl --quiet --output=cat --unit={APP}.service --unit={APP}.socket --unit=nginx.service \
  --unit='postgresql@*' | grep -cE '^(Reloading|Stopping|Starting)')"
"""

PUSH = """cd /srv/src/notes && echo '/* pushed by the check mode test */' >> example/notes/static/notes/site.css &&
git -c user.name=ci -c user.email=ci@site.test commit -qam 'A commit check mode must not deploy' &&
git push -q origin main && git rev-parse HEAD"""


def fingerprints() -> dict[str, dict[str, str]]:
    """Every instance's fingerprint, {name: {part: value}}, read in parallel (one podman exec each)."""
    return {name: dict(line.split(" ", 1) for line in out.splitlines()) for name, out in sh_each(FINGERPRINT).items()}


def assert_converged() -> None:
    """Every instance runs the newest commit of its repository, as `molecule converge` leaves it (a
    rollback, as test_site.py ends with, is a change that check mode rightly reports)."""
    for name in instances():
        script = f"git --git-dir=/srv/git/{APP}.git rev-parse main; cat /srv/{APP}/current/REVISION"
        newest, running = sh(name, script).split()
        if newest != running:
            pytest.fail(f"{name} runs {running}, not the newest commit {newest}: run `molecule converge -s site` first")


def diff_headers(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("--- before")]


def diff_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if re.match(r"^[-+](?![-+]{2} )", line)]


@pytest.fixture(scope="module")
def check_runs(run_playbook) -> dict:
    """site.yml --check --diff as it is and with nginx_client_max_body_size changed, side by side (both
    only read the hosts), with the fingerprints before and after."""
    assert_converged()
    before = fingerprints()
    runs = {"unchanged": None, "body size": {"nginx_client_max_body_size": BODY_SIZE}}
    with ThreadPoolExecutor(len(runs)) as pool:
        futures = {key: pool.submit(run_playbook, SITE, extra, args=CHECK) for key, extra in runs.items()}
        results = {key: future.result() for key, future in futures.items()}
    return {"before": before, "after": fingerprints(), **results}


def test_check_mode_on_the_provisioned_site_reports_no_change(check_runs):
    result = check_runs["unchanged"]
    out = result.stdout
    assert result.returncode == 0, out[-5000:]
    counters = recap(out)
    assert sorted(counters) == instances(), out[-3000:]
    for host, count in counters.items():
        assert (count["changed"], count["failed"]) == (0, 0), f"{host}: {changed_tasks(out).get(host)}"
    assert diff_headers(out) == []
    # Every tier's tasks, the database's queries among them: no warning, no deprecated module option.
    assert warnings(out) == []


def test_one_changed_input_reports_its_file_and_reload_and_writes_nothing(check_runs):
    result = check_runs["body size"]
    out = result.stdout
    assert result.returncode == 0, out[-5000:]
    names = instances()
    counters = recap(out)
    assert sorted(counters) == names, out[-3000:]
    for host, titles in changed_tasks(out).items():
        # The file, and the reload a real run would make for it: nothing else.
        assert titles == ["djangoops.django.nginx : Install the site", "djangoops.django.nginx : Reload nginx"]
        assert counters[host]["changed"] == 2
    assert sorted(changed_tasks(out)) == names
    # The diff of that one file on each host, and of that one line.
    assert [header.split()[2] for header in diff_headers(out)] == [VHOST] * len(names), diff_headers(out)
    lines = diff_lines(out)
    assert len(lines) == 2 * len(names), lines
    assert all(line[1:].strip().startswith("client_max_body_size ") for line in lines), lines
    assert f"+    client_max_body_size {BODY_SIZE};" in lines
    # Nothing was written or reloaded.
    assert check_runs["after"] == check_runs["before"]
    for name in names:
        assert f"client_max_body_size {BODY_SIZE};" not in sh(name, f"cat {VHOST}")


@pytest.fixture(scope="module")
def deploy_check(run_playbook, check_runs) -> dict:
    """A new commit pushed on every instance, then deploy.yml --check --diff (after the site checks,
    which must not see it)."""
    shas = {name: sh(name, PUSH).strip() for name in instances()}
    before = fingerprints()
    result = run_playbook(DEPLOY, args=CHECK)
    return {"shas": shas, "result": result, "before": before, "after": fingerprints()}


def test_deploy_check_names_the_new_commit_and_makes_no_release(deploy_check):
    out = deploy_check["result"].stdout
    assert deploy_check["result"].returncode == 0, out[-5000:]
    counters = recap(out)
    assert sorted(counters) == instances(), out[-3000:]
    for name, sha in deploy_check["shas"].items():
        assert re.fullmatch("[0-9a-f]{40}", sha), sha
        assert deploy_check["before"][name]["releases"].count(sha[:12]) == 0
        assert re.search(rf'^ok: \[{name}\] => {{\n\s*"msg": "Would deploy {sha} ', out, re.MULTILINE), out[-5000:]
        assert counters[name]["failed"] == 0
        # Activation is reported (a real run switches current), not done.
        assert counters[name]["changed"] >= 1
    assert deploy_check["after"] == deploy_check["before"]
