"""The site's input contract: bad input to site.yml, deploy.yml or rollback.yml stops the run before any
host changes. Each case runs the playbook against the scenario's hosts and asserts a non-zero
exit, a message naming the variable, no secret in the output, and that no play of a tier started.
A fingerprint of every host (files under /etc and /srv, the `current` link, PostgreSQL roles and
databases, systemd units) is identical before and after the whole battery (each fingerprint takes
seconds: one per case would cost more than the cases).

These tests take no `host` fixture, so testinfra runs each once (not once per host)."""

import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
from site_runs import instances, sh, sh_each

SITE, DEPLOY, ROLLBACK = "../../site.yml", "../../playbooks/deploy.yml", "../../playbooks/rollback.yml"
GOOD_KEY = "site-scenario-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
SECRETS = ["site-scenario-db-password", "site-scenario-admin-password", GOOD_KEY]
BAD_SECRET = "tooshort-secret-4242"
BAD_DEPLOY_KEY = "not-a-key-but-secret-9191"

FINGERPRINT = r"""
set -u
find /etc /srv -xdev \( -path /srv/notes/shared/media -o -path /etc/ssh \) -prune -o \
  -printf '%p %y %s %m %u %g %T@ %l\n' 2>/dev/null | sort | sha256sum
readlink /srv/notes/current /srv/notes/previous
runuser -u postgres -- psql -XAtq -d postgres -c \
  "SELECT string_agg(rolname || ':' || rolcanlogin, ',' ORDER BY rolname) FROM pg_roles;
   SELECT string_agg(datname || ':' || pg_get_userbyid(datdba), ',' ORDER BY datname) FROM pg_database;"
# Units and their states, but the services the OS's timers start on their own (systemd-tmpfiles-clean
# 15 minutes after boot, apt-daily ...): a slow run of the battery can meet one of them.
timed=$(systemctl show --property=Triggers --value \
  $(systemctl list-units --all --plain --no-legend --no-pager --type=timer | awk '{print $1}') | tr ' ' '\n')
systemctl list-units --all --plain --no-legend --no-pager |
  awk -v timed="$timed" 'BEGIN {split(timed, t, "\n"); for (i in t) skip[t[i]] = 1}
    $1 !~ /^(session-|run-|user)/ && !($1 in skip) {print $1,$3,$4}' | sort
systemctl list-unit-files --plain --no-legend --no-pager | sort
"""

# (playbook, extra vars, the variable the refusal must name, what else the output must say)
CASES = [
    # --- names and domains (every tier reads them) ---
    (SITE, {"app_domains": ["https://example.org"]}, "app_domains", "scheme"),
    (SITE, {"app_domains": ["example.org/shop"]}, "app_domains", "path"),
    (SITE, {"app_domains": ["site.test:8443"]}, "app_domains", "port"),
    (SITE, {"app_domains": ["*.site.test"]}, "app_domains", "wildcard"),
    (SITE, {"app_domains": ["a" * 70 + ".site.test"]}, "app_domains", "63"),
    (SITE, {"app_domains": []}, "app_domains", "non-empty"),
    (SITE, {"app_name": "Notes"}, "app_name", "system name"),
    (SITE, {"app_name": "notes app"}, "app_name", "system name"),
    (SITE, {"app_db_name": 'notes"; DROP DATABASE postgres; --'}, "app_db_name", "PostgreSQL identifier"),
    (SITE, {"app_db_user": "1notes"}, "app_db_user", "PostgreSQL identifier"),
    (SITE, {"app_extra_allowed_hosts": ["https://site.test"]}, "app_extra_allowed_hosts", "scheme"),
    (SITE, {"app_extra_csrf_trusted_origins": ["site.test"]}, "app_extra_csrf_trusted_origins", "https://"),
    # --- choices, types and unknown keys ---
    (SITE, {"app_tls": "selfsigned"}, "app_tls", "letsencrypt, self-signed"),
    (SITE, {"app_db_engine": "mysql"}, "app_db_engine", "postgresql, sqlite"),
    (SITE, {"app_tsl": "self-signed"}, "app_tsl", "did you mean app_tls"),
    (SITE, {"app_domain": ["site.test"]}, "app_domain", "did you mean app_domains"),
    (SITE, {"app_keep_release": 3}, "app_keep_release", "did you mean app_keep_releases"),
    (SITE, {"app_tcp_port": "eighty"}, "app_tcp_port", "int"),
    (SITE, {"app_letsencrypt_staging": "maybe"}, "app_letsencrypt_staging", "bool"),
    (SITE, {"app_env_extra": ["DEBUG=1"]}, "app_env_extra", "dict"),
    # --- ports, paths, packages ---
    (SITE, {"app_tcp_port": 70000}, "app_tcp_port", "65535"),
    (SITE, {"app_code_root": "/srv/../etc/notes"}, "app_code_root", ".."),
    (SITE, {"app_project_dir": "../example"}, "app_project_dir", ".."),
    (SITE, {"app_requirements_file": "/etc/passwd"}, "app_requirements_file", "relative"),
    (SITE, {"app_requirements_file": "../../requirements.txt"}, "app_requirements_file", "not beyond it"),
    (SITE, {"app_system_packages": ["libpq-dev; rm -rf /"]}, "app_system_packages", "Debian package"),
    (SITE, {"app_system_packages": ["LibPQ-Dev"]}, "app_system_packages", "Debian package"),
    (SITE, {"app_health_check_path": "healthz"}, "app_health_check_path", "path"),
    (SITE, {"app_health_check_path": "/ok/../healthz"}, "app_health_check_path", ".."),
    (SITE, {"app_settings_module": "mysite/settings"}, "app_settings_module", "dotted"),
    (SITE, {"app_wsgi_application": "mysite.wsgi"}, "app_wsgi_application", "module.path:variable"),
    (SITE, {"app_repo": "ext::sh -c touch% /tmp/pwned"}, "app_repo", "repository URL"),
    (SITE, {"app_db_listen_addresses": ["10.0.0.1 host all all"]}, "app_db_listen_addresses", "IP addresses"),
    (SITE, {"app_keep_releases": 0}, "app_keep_releases", "1 or more"),
    (SITE, {"app_deploy_serial": "half"}, "app_deploy_serial", "percentage"),
    # --- secrets and the rules that tie settings together (the rules of several hosts: the cluster
    # scenario, and tests/test_contract.py on a local split inventory) ---
    (SITE, {"app_secret_key": BAD_SECRET}, "app_secret_key", "50 or more"),
    (SITE, {"app_db_password": ""}, "app_db_password", "required"),
    (SITE, {"app_admin": {"username": "admin", "email": "a@site.test"}}, "app_admin", "password"),
    (SITE, {"app_deploy_key": BAD_DEPLOY_KEY}, "app_deploy_key", "private key"),
    (SITE, {"app_env_extra": {"1BAD": "x"}}, "app_env_extra", "environment variable names"),
    (SITE, {"app_env_extra": {"WORKERS": 3}}, "app_env_extra", "strings"),
    (SITE, {"app_letsencrypt_staging": True}, "app_letsencrypt_staging", "exclude each other"),
    (SITE, {"app_letsencrypt_email": "ops-at-site.test"}, "app_letsencrypt_email", "email"),
    (SITE, {"app_acme_server": "http://localhost:14000/dir"}, "app_acme_server", "https://"),
    # --- role inputs of each tier, as an inventory would override them ---
    (SITE, {"postgresql_port": 70000}, "postgresql_port", "port"),
    (SITE, {"postgresql_users": [{"name": 'a"b', "password": "x"}]}, "postgresql_users", "identifier"),
    (SITE, {"gunicorn_workers": -1}, "gunicorn_workers", ">= 0"),
    (SITE, {"gunicorn_threads": 4, "gunicorn_worker_class": "sync"}, "gunicorn_threads", "gthread"),
    (SITE, {"nginx_client_max_body_size": "lots"}, "nginx_client_max_body_size", ""),
    (SITE, {"nginx_https_public_port": 70000}, "nginx_https_public_port", ""),
    (SITE, {"letsencrypt_renew_before_days": 0}, "letsencrypt_renew_before_days", ""),
    # --- the other entry points ---
    (DEPLOY, {"app_version": "--upload-pack=touch /tmp/pwned"}, "app_version", "branch, tag or commit"),
    (DEPLOY, {"app_domains": ["https://site.test"]}, "app_domains", "scheme"),
    (DEPLOY, {"app_tls": "selfsigned"}, "app_tls", "letsencrypt, self-signed"),
    (DEPLOY, {"app_helth_check_path": "/"}, "app_helth_check_path", "did you mean app_health_check_path"),
    (DEPLOY, {"gunicorn_bind": "0.0.0.0:70000"}, "gunicorn_bind", ""),
    # A role's own check (its tasks/validate.yml, not its spec): the preflight runs it, the role does not again.
    (DEPLOY, {"gunicorn_forwarded_allow_ips": "10.0.0.1, 10.0.0.2"}, "gunicorn_forwarded_allow_ips", "without spaces"),
    (ROLLBACK, {"app_name": "Notes"}, "app_name", "system name"),
    (ROLLBACK, {"app_health_check_path": "health check"}, "app_health_check_path", "path"),
    (ROLLBACK, {"app_code_rollback_to": "../../etc"}, "app_code_rollback_to", "release"),
]


def fingerprints() -> dict[str, str]:
    """Every instance's fingerprint, read in parallel (one podman exec each)."""
    return sh_each(FINGERPRINT)


@pytest.fixture(scope="module")
def before() -> dict[str, str]:
    prints = fingerprints()
    assert all("notes:notes" in p and "nginx.service active running" in p for p in prints.values()), prints
    return prints


def test_there_are_forty_cases_or_more_across_the_entry_points():
    assert len(CASES) >= 40
    assert {playbook for playbook, *_ in CASES} == {SITE, DEPLOY, ROLLBACK}


def test_the_fingerprint_sees_a_change():
    """The fingerprint would notice a change under /etc (a check that can fail)."""
    name = instances()[0]
    first = fingerprints()[name]
    sh(name, "touch /etc/contract-probe")
    try:
        assert fingerprints()[name] != first
    finally:
        sh(name, "rm -f /etc/contract-probe")


@pytest.fixture(scope="module")
def results(request, run_playbook, before) -> dict[int, subprocess.CompletedProcess]:
    """The selected cases, run a few at a time (each run only reads the hosts): {case index: completed process}."""
    selected = sorted(
        item.callspec.params["index"]
        for item in request.session.items
        if hasattr(item, "callspec") and "index" in item.callspec.params
    )

    def one(index: int) -> subprocess.CompletedProcess:
        playbook, extra_vars, *_ = CASES[index]
        return run_playbook(playbook, extra_vars)

    with ThreadPoolExecutor(4) as pool:
        return dict(zip(selected, pool.map(one, selected), strict=True))


@pytest.fixture(scope="module")
def after(results) -> dict[str, str]:
    """Every instance's fingerprint once every selected case has run."""
    return fingerprints()


@pytest.mark.parametrize(
    ("index", "variable", "rule"),
    [(i, variable, rule) for i, (_, _, variable, rule) in enumerate(CASES)],
    ids=[f"{p.split('/')[-1].removesuffix('.yml')}-{v}-{i}" for i, (p, _, v, _) in enumerate(CASES)],
)
def test_bad_input_is_refused_before_any_host_changes(results, index, variable, rule):
    out = results[index].stdout
    assert results[index].returncode != 0, out[-3000:]
    failures = [line for line in out.splitlines() if line.startswith(("fatal:", "failed:"))]
    assert failures, out[-3000:]
    named = [line for line in failures if variable in line]
    assert named, "no failure names " + variable + ":\n" + "\n".join(failures)[-3000:]
    assert rule.lower() in " ".join(named).lower(), "\n".join(named)[-3000:]
    # It stopped in the preflight play, before any tier: no task of a tier's play ran.
    assert not any(f"PLAY [{play}" in out for play in ("Database tier", "App tier", "Roll the app tier")), out[-3000:]
    for secret in [*SECRETS, BAD_SECRET, BAD_DEPLOY_KEY]:
        assert secret not in out, f"a secret value was printed ({variable})"


def test_no_refused_run_changed_any_host(results, before, after):
    """The refused runs above, every one of them, left every host as it was."""
    assert results
    assert after == before


def test_good_input_passes_the_contract(run_playbook):
    """The same check on the scenario's own settings passes (the cases above fail for their input only)."""
    result = run_playbook("../../playbooks/preflight.yml")
    assert result.returncode == 0, result.stdout[-3000:]


def test_check_mode_on_a_host_the_site_never_ran_on_stops_at_once(run_playbook, before):
    """`--check` for an app these hosts never ran (no record of a first run): one message, no change."""
    result = run_playbook(SITE, {"app_name": "freshsite"}, args=["--check", "--diff"])
    out = result.stdout
    assert result.returncode != 0, out[-3000:]
    failures = [line for line in out.splitlines() if line.startswith(("fatal:", "failed:"))]
    assert len(failures) == len(instances()), failures  # one per host
    assert all("a first real run is needed" in line for line in failures), failures
    assert "PLAY [Database tier" not in out
    assert fingerprints() == before
