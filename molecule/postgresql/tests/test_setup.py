"""postgresql_setup: changed and verified skip the host's setup (packages, cluster, TLS files, configuration)
that is as recorded on the host, and still manage users and databases and publish the setup's facts.

Run on the platform with the role's defaults: each test converges again (converge.yml with extra vars).
"""

import json
import re
import shlex

import pytest
from test_postgresql import CLIENT_ROOT_CERT, CONVERGE_VARS, PASSWORDS, SSL_DIR, VERSIONS, is_networked, login, sql

RECORD = "/etc/ansible/facts.d/djangoops_setup_postgresql.fact"
SKIPPED = "djangoops_setup_postgresql.fact): skipped"
# One task of each part of the setup: listed only when the setup runs.
SETUP_TASKS = [
    "postgresql : Install PostgreSQL and the Python libraries of the postgresql and crypto modules",
    "postgresql : Sign the server certificate with the CA",
    "postgresql : Write pg_hba.conf",
]


@pytest.fixture(autouse=True)
def defaults_platform_only(host):
    if is_networked(host):
        pytest.skip("each test converges again: run once, on the platform with the role's defaults")


@pytest.fixture
def converge(host, run_playbook):
    """Converge this host again with `postgresql_setup` and more extra vars; returns the run, which must pass."""

    def run(mode: str, extra_vars: dict | None = None, args: list[str] | None = None):
        result = run_playbook("converge.yml", {"postgresql_setup": mode, **(extra_vars or {})}, host.backend.name, args)
        assert result.returncode == 0, result.stdout[-3000:]
        return result

    return run


@pytest.fixture
def recorded(converge):
    """The host as the recorded setup left it: verified repairs what earlier tests changed, and records it."""
    converge("verified")


# The modules that manage users and databases: listed only when the read of the server finds something to do.
DATA_TASKS = [
    "postgresql : Create the database users and set their passwords",
    "postgresql : Create the databases",
    "postgresql : Let each database's owner create objects in its public schema",
    "postgresql : Create the databases' extensions",
]


def changed_count(stdout: str, name: str) -> int:
    return int(re.search(rf"^{re.escape(name)}\s+: ok=\d+\s+changed=(\d+)", stdout, re.MULTILINE).group(1))


def listed_setup_tasks(stdout: str) -> list[str]:
    return [task for task in SETUP_TASKS if f"TASK [{task}]" in stdout]


def pg_hba(host) -> str:
    return f"/etc/postgresql/{VERSIONS[host.system_info.codename]}/main/pg_hba.conf"


def test_the_setup_is_recorded_without_secrets(host, recorded):
    record_file = host.file(RECORD)
    assert (record_file.user, record_file.group, record_file.mode) == ("root", "root", 0o644)
    record = json.loads(record_file.content_string)
    version = VERSIONS[host.system_info.codename]
    assert record["published"] == {
        "server_version": version,
        "config_dir": f"/etc/postgresql/{version}/main",
        "data_dir": f"/var/lib/postgresql/{version}/main",
        "port": 5432,
    }
    assert set(record["not_after"]) == {f"{SSL_DIR}/ca.crt", f"{SSL_DIR}/server.crt"}
    enddate = host.check_output(f"openssl x509 -noout -enddate -in {SSL_DIR}/server.crt")
    assert enddate.split()[-2] == record["not_after"][f"{SSL_DIR}/server.crt"][:4]
    assert not [password for password in PASSWORDS.values() if password in record_file.content_string]


def test_changed_skips_the_setup_and_publishes_its_facts(host, converge, recorded):
    """converge.yml's post_tasks write the published postgresql_ssl_ca_certificate for a client: still the CA."""
    result = converge("changed")
    assert SKIPPED in result.stdout
    assert listed_setup_tasks(result.stdout) == []
    assert changed_count(result.stdout, host.backend.name) == 0
    assert host.file(CLIENT_ROOT_CERT).content_string == host.file(f"{SSL_DIR}/ca.crt").content_string
    # Check mode and --diff skip it too, and report nothing to change.
    result = converge("verified", args=["--check", "--diff"])
    assert SKIPPED in result.stdout
    assert changed_count(result.stdout, host.backend.name) == 0


def test_a_hand_edited_pg_hba_is_repaired_by_verified_not_by_changed(host, converge, recorded):
    host.check_output(f"echo 'host all all 0.0.0.0/0 trust  # edited by hand' >> {pg_hba(host)}")
    result = converge("changed")
    assert SKIPPED in result.stdout
    assert "edited by hand" in host.file(pg_hba(host)).content_string

    result = converge("verified")
    assert SKIPPED not in result.stdout
    assert "edited by hand" not in host.file(pg_hba(host)).content_string
    assert re.search(r"^changed: \[[^\]]+\]", result.stdout.split("TASK [postgresql : Write pg_hba.conf]")[1], re.M)
    assert "RUNNING HANDLER [postgresql : Reload postgresql]" in result.stdout
    # Recorded again: the next run skips it and changes nothing.
    result = converge("verified")
    assert SKIPPED in result.stdout
    assert changed_count(result.stdout, host.backend.name) == 0


def test_a_password_change_is_applied_with_the_setup_skipped(host, converge, recorded):
    users = [
        {**user, "password": "app-db-Secret-changed"} if user["name"] == "app" else user
        for user in CONVERGE_VARS["postgresql_users"]
    ]
    try:
        result = converge("changed", {"postgresql_users": users})
        assert SKIPPED in result.stdout
        assert "app-db-Secret-changed" not in result.stdout
        assert login(host, "app", "app-db-Secret-changed", "SELECT 1").rc == 0
        assert login(host, "app", PASSWORDS["app"], "SELECT 1").rc != 0
    finally:
        result = converge("changed")
    assert SKIPPED in result.stdout
    assert login(host, "app", PASSWORDS["app"], "SELECT 1").rc == 0


def listed_data_tasks(stdout: str) -> list[str]:
    return [task for task in DATA_TASKS if f"TASK [{task}]" in stdout]


def test_users_and_databases_as_the_server_has_them_run_no_module(host, converge, recorded):
    result = converge("changed")
    assert "TASK [postgresql : Read the users and databases as the server has them]" in result.stdout
    assert listed_data_tasks(result.stdout) == []
    assert changed_count(result.stdout, host.backend.name) == 0


def test_users_and_databases_changed_by_hand_are_repaired(host, converge, recorded):
    sql(host, "ALTER ROLE app PASSWORD 'changed-by-hand' NOCREATEDB")
    sql(host, "REVOKE CREATE ON SCHEMA public FROM app", database="app")
    sql(host, "DROP EXTENSION citext", database="app")
    assert login(host, "app", PASSWORDS["app"], "SELECT 1").rc != 0

    result = converge("changed")
    assert SKIPPED in result.stdout
    assert listed_data_tasks(result.stdout) == DATA_TASKS
    assert "changed-by-hand" not in result.stdout
    assert login(host, "app", PASSWORDS["app"], "SELECT 1").rc == 0
    assert sql(host, "SELECT rolcreatedb FROM pg_roles WHERE rolname = 'app'") == "t"
    grants = "SELECT privilege_type FROM pg_namespace, aclexplode(nspacl) AS acl"
    grants += " WHERE nspname = 'public' AND pg_get_userbyid(acl.grantee) = 'app' ORDER BY 1"
    assert sql(host, grants, database="app").split() == ["CREATE", "USAGE"]
    assert "citext" in sql(host, "SELECT extname FROM pg_extension", database="app").split()
    # Repaired: the next run finds nothing to do.
    result = converge("changed")
    assert listed_data_tasks(result.stdout) == []
    assert changed_count(result.stdout, host.backend.name) == 0


def test_changed_runs_the_setup_when_a_recorded_certificate_nears_its_expiry(host, converge, recorded):
    """The record's expiry, against the controller's clock: as if the server certificate had expired since."""
    script = (
        "import json, sys; path = sys.argv[1]; record = json.load(open(path)); "
        f"record['not_after']['{SSL_DIR}/server.crt'] = '2000-01-01T00:00:00Z'; "
        "open(path, 'w').write(json.dumps(record))"
    )
    host.check_output(f"python3 -c {shlex.quote(script)} {RECORD}")
    result = converge("changed")
    assert SKIPPED not in result.stdout
    assert listed_setup_tasks(result.stdout) == SETUP_TASKS
    # Recorded again with the certificate's real expiry: the next run skips the setup.
    record = json.loads(host.file(RECORD).content_string)
    enddate = host.check_output(f"openssl x509 -noout -enddate -in {SSL_DIR}/server.crt")
    assert record["not_after"][f"{SSL_DIR}/server.crt"][:4] == enddate.split()[-2]
    assert SKIPPED in converge("changed").stdout
