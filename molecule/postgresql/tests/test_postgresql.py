"""PostgreSQL as its users see it: logins over TCP, tables, SCRAM, listening addresses, pg_hba rules.

Debian 12 runs the role's defaults (loopback only); Debian 13 also listens on its own address and
lets the app user in from the container network (host_vars in molecule.yml).
"""

import ipaddress
import shlex
import time
import uuid
from pathlib import Path

import pytest
import yaml

SCENARIO = Path(__file__).resolve().parent.parent
CONVERGE_VARS = yaml.safe_load((SCENARIO / "converge.yml").read_text())[0]["vars"]
HOST_VARS = yaml.safe_load((SCENARIO / "molecule.yml").read_text())["provisioner"]["inventory"]["host_vars"]
PASSWORDS = {user["name"]: user["password"] for user in CONVERGE_VARS["postgresql_users"]}
VERSIONS = {"bookworm": "15", "trixie": "17"}
SSL_DIR = "/etc/postgresql/djangoops-ssl"
# Where converge's post_tasks wrote the fact postgresql_ssl_ca_certificate, as a client keeps it.
CLIENT_ROOT_CERT = "/usr/local/share/postgresql-client-root.crt"
SSL_QUERY = "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"


def is_networked(host) -> bool:
    """True for the platform whose host_vars add a listen address and an hba rule."""
    return host.backend.name in HOST_VARS


def external_interface(host) -> ipaddress.IPv4Interface:
    line = host.check_output("ip -4 -o addr show scope global | head -n 1")
    return ipaddress.IPv4Interface(line.split()[3])


def external_ip(host) -> str:
    return str(external_interface(host).ip)


def _sql_cmd(query: str, database: str = "postgres") -> str:
    return f"runuser -u postgres -- psql -XAtq -v ON_ERROR_STOP=1 -d {database} -c {shlex.quote(query)}"


def sql(host, query: str, database: str = "postgres") -> str:
    """Run a query as the postgres superuser over the socket (peer), return the unaligned output."""
    return host.check_output(_sql_cmd(query, database))


def login(host, user: str, password: str, query: str, address: str = "127.0.0.1", database: str = "app"):
    """Log in over TCP with a password, as an app would; returns the command result."""
    dsn = f"host={address} port=5432 dbname={database} user={user} sslmode=disable connect_timeout=5"
    return host.run(
        f"PGPASSWORD={shlex.quote(password)} psql -XAtq -v ON_ERROR_STOP=1 {shlex.quote(dsn)} -c {shlex.quote(query)}"
    )


def tls_login(host, query: str, name: str = "127.0.0.1", root_cert: str = CLIENT_ROOT_CERT, **params: str):
    """Log in as the app user over TLS, verifying the server as `name` (libpq sslmode=verify-full)."""
    settings = {
        "host": name,
        "port": "5432",
        "dbname": "app",
        "user": "app",
        "sslmode": "verify-full",
        "sslrootcert": root_cert,
        "connect_timeout": "5",
        **params,
    }
    dsn = " ".join(f"{key}={value}" for key, value in settings.items())
    return host.run(
        f"PGPASSWORD={shlex.quote(PASSWORDS['app'])} psql -XAtq -v ON_ERROR_STOP=1 {shlex.quote(dsn)} "
        f"-c {shlex.quote(query)}"
    )


def listening_addresses(host) -> set[str]:
    out = host.check_output("ss -Hltn 'sport = :5432'")
    return {line.split()[3].rsplit(":", 1)[0] for line in out.splitlines() if line.strip()}


def test_server_is_debians_version_for_the_release(host):
    expected = VERSIONS[host.system_info.codename]
    assert sql(host, "SHOW server_version_num")[:2] == expected
    assert host.file(f"/etc/postgresql/{expected}/main/conf.d/50-ansible.conf").exists


def test_service_enabled_and_active(host):
    version = VERSIONS[host.system_info.codename]
    assert host.service("postgresql").is_enabled
    assert host.service(f"postgresql@{version}-main").is_running


def test_listens_on_loopback_only_by_default(host):
    if is_networked(host):
        pytest.skip("this platform adds a listen address")
    assert listening_addresses(host) <= {"127.0.0.1", "[::1]"}
    assert "127.0.0.1" in listening_addresses(host)
    result = login(host, "app", PASSWORDS["app"], "SELECT 1", address=external_ip(host))
    assert result.rc != 0
    assert "Connection refused" in result.stderr


def test_listens_on_loopback_and_the_extra_address_only(host):
    if not is_networked(host):
        pytest.skip("this platform runs the defaults")
    assert listening_addresses(host) == {"127.0.0.1", external_ip(host)}
    assert sql(host, "SHOW listen_addresses") == f"localhost,{external_ip(host)}"


def test_app_user_creates_a_table_over_tcp_with_its_password(host):
    table = f"verify_{uuid.uuid4().hex[:8]}"
    result = login(
        host,
        "app",
        PASSWORDS["app"],
        f"CREATE TABLE public.{table} (id serial PRIMARY KEY, body text NOT NULL);"
        f"INSERT INTO {table} (body) VALUES ('héllo');"
        f"SELECT current_user, body FROM {table};"
        f"DROP TABLE {table};",
    )
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == "app|héllo"


def test_wrong_password_is_refused(host):
    result = login(host, "app", "not-the-password", "SELECT 1")
    assert result.rc != 0
    assert 'password authentication failed for user "app"' in result.stderr


def test_stored_passwords_are_scram(host):
    rows = sql(host, "SELECT rolname, rolpassword FROM pg_authid WHERE rolname IN ('app', 'reporter') ORDER BY 1")
    stored = dict(line.split("|", 1) for line in rows.splitlines())
    assert set(stored) == {"app", "reporter"}
    assert all(password.startswith("SCRAM-SHA-256$") for password in stored.values())


def test_database_owner_encoding_locale_and_extensions(host):
    row = sql(
        host,
        "SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate, datctype "
        "FROM pg_database WHERE datname = 'app'",
    )
    assert row == "app|UTF8|C.UTF-8|C.UTF-8"
    result = login(host, "app", PASSWORDS["app"], "SELECT similarity('postgres', 'postgis') > 0, 'A'::citext = 'a'")
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == "t|t"


def test_settings_from_variables_and_memory(host):
    memtotal_mb = int(host.check_output("awk '/^MemTotal:/ {print $2}' /proc/meminfo")) // 1024
    mb = 1024 * 1024
    expected = {
        "shared_buffers": min(memtotal_mb // 4, 8192) * mb,
        "effective_cache_size": memtotal_mb * 3 // 4 * mb,
        "work_mem": min(max(memtotal_mb * 3 // 4 // 400, 4), 64) * mb,
        "maintenance_work_mem": min(max(memtotal_mb // 16, 64), 1024) * mb,
    }
    for name, size in expected.items():
        assert int(sql(host, f"SELECT pg_size_bytes(current_setting('{name}'))")) == size, name
    assert sql(host, "SHOW max_connections") == "100"
    assert sql(host, "SHOW password_encryption") == "scram-sha-256"
    # From postgresql_settings: one needs a restart, the other a reload; both are in effect.
    assert sql(host, "SHOW shared_preload_libraries") == "pg_stat_statements"
    assert sql(host, "SHOW log_min_duration_statement") == "500ms"
    assert sql(host, "SELECT count(*) FROM pg_settings WHERE pending_restart") == "0"


def test_pg_hba_allows_nothing_else(host):
    rules = sql(
        host,
        "SELECT type, array_to_string(database, ','), array_to_string(user_name, ','), "
        "coalesce(address || '/' || netmask, ''), auth_method FROM pg_hba_file_rules ORDER BY line_number",
    ).splitlines()
    expected = [
        "local|all|postgres||peer",
        "local|all|all||scram-sha-256",
        "host|all|all|127.0.0.1/255.255.255.255|scram-sha-256",
        "host|all|all|::1/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff|scram-sha-256",
    ]
    if is_networked(host):
        network = external_interface(host).network
        expected.append(f"host|app|app|{network.network_address}/{network.netmask}|scram-sha-256")
    assert rules == expected


def test_hba_rule_for_the_cidr_lets_the_app_user_in_and_nobody_else(host):
    if not is_networked(host):
        pytest.skip("this platform runs the defaults")
    address = external_ip(host)
    allowed = login(host, "app", PASSWORDS["app"], "SELECT inet_client_addr()", address=address)
    assert allowed.rc == 0, allowed.stderr
    assert allowed.stdout.strip() == address
    other_user = login(host, "reporter", PASSWORDS["reporter"], "SELECT 1", address=address)
    assert other_user.rc != 0
    assert "no pg_hba.conf entry" in other_user.stderr
    other_database = login(host, "app", PASSWORDS["app"], "SELECT 1", address=address, database="postgres")
    assert other_database.rc != 0
    assert "no pg_hba.conf entry" in other_database.stderr


def test_tls_keys_are_private_and_certificates_public(host):
    files = {
        "ca.key": ("root", "root", 0o600),
        "ca.crt": ("root", "root", 0o644),
        "server.key": ("postgres", "postgres", 0o600),
        "server.crt": ("root", "root", 0o644),
    }
    for name, owner_group_mode in files.items():
        tls_file = host.file(f"{SSL_DIR}/{name}")
        assert (tls_file.user, tls_file.group, tls_file.mode) == owner_group_mode, name
    assert host.file(CLIENT_ROOT_CERT).content_string == host.file(f"{SSL_DIR}/ca.crt").content_string


def test_the_ca_certificate_is_a_local_fact_for_later_runs(host, ansible_host):
    # What a deploy that does not run the role reads from this host's facts.
    local = ansible_host.ansible("setup", "gather_subset=min filter=ansible_local", check=False)["ansible_facts"][
        "ansible_local"
    ]
    assert local["postgresql_ssl"]["ca_certificate"].strip() == host.file(f"{SSL_DIR}/ca.crt").content_string.strip()


def test_server_uses_the_certificate_of_the_role(host):
    assert sql(host, "SHOW ssl") == "on"
    assert sql(host, "SHOW ssl_cert_file") == f"{SSL_DIR}/server.crt"
    assert sql(host, "SHOW ssl_key_file") == f"{SSL_DIR}/server.key"


def test_verify_full_login_over_tcp_is_encrypted(host):
    result = tls_login(host, SSL_QUERY)
    assert result.rc == 0, result.stderr
    encrypted, version = result.stdout.strip().split("|")
    assert encrypted == "t"
    assert version.startswith("TLSv1.")


@pytest.mark.parametrize("name", ["localhost", *CONVERGE_VARS["postgresql_ssl_names"]])
def test_every_name_of_the_certificate_verifies(host, name):
    # hostaddr connects to loopback; libpq checks the certificate against host=.
    result = tls_login(host, SSL_QUERY, name=name, hostaddr="127.0.0.1")
    assert result.rc == 0, result.stderr
    assert result.stdout.strip().startswith("t|")


def test_another_root_certificate_is_refused(host):
    result = tls_login(host, "SELECT 1", root_cert="/etc/ssl/certs/ca-certificates.crt")
    assert result.rc != 0
    assert "certificate verify failed" in result.stderr


def test_a_name_outside_the_certificate_is_refused(host):
    result = tls_login(host, "SELECT 1", name="not-in-the-certificate.test", hostaddr="127.0.0.1")
    assert result.rc != 0
    assert 'does not match host name "not-in-the-certificate.test"' in result.stderr


@pytest.mark.parametrize(
    ("extra_vars", "message"),
    [
        (
            {"postgresql_databases": [{"owner": "app"}]},
            "missing required arguments: name found in postgresql_databases",
        ),
        (
            {"postgresql_databases": [{"name": "newdb", "owner": "ghost"}]},
            "postgresql_databases[0] (newdb): owner 'ghost' is neither in postgresql_users nor a role",
        ),
        (
            {"postgresql_hba_extra_entries": [{"database": "newdb", "address": "10.0.0.300/8"}]},
            'postgresql_hba_extra_entries[0]: invalid address "10.0.0.300/8"',
        ),
        (
            {"postgresql_ssl_names": ["db1.example.org", "https://db1.example.org", "10.0.1.0/24"]},
            "postgresql_ssl_names must list host names (RFC 1123, without scheme, port or trailing dot) and IP "
            "addresses; invalid: ['https://db1.example.org', '10.0.1.0/24']",
        ),
    ],
    ids=["database-without-name", "unknown-owner", "invalid-hba-address", "invalid-ssl-name"],
)
def test_bad_input_stops_the_run_before_any_change(host, run_playbook, extra_vars, message):
    if is_networked(host):
        pytest.skip("validation runs before anything platform-specific: checked once, on the defaults platform")
    # A new user comes with the bad input: it must not be created.
    extra_vars = {**extra_vars, "postgresql_users": CONVERGE_VARS["postgresql_users"] + [{"name": "newuser"}]}
    result = run_playbook("converge.yml", extra_vars, limit=host.backend.name)
    assert result.returncode != 0
    assert message in result.stdout
    assert "changed=0" in result.stdout
    assert sql(host, "SELECT count(*) FROM pg_roles WHERE rolname = 'newuser'") == "0"


def test_reloadable_setting_is_applied_by_a_reload_not_a_restart(host, run_playbook, monkeypatch):
    """Someone changed work_mem by hand and reloaded; the role puts it back with a reload only."""
    if is_networked(host):
        pytest.skip("run once, on the platform with the role's defaults")
    version = VERSIONS[host.system_info.codename]
    converged = sql(host, "SHOW work_mem")
    dropin = f"/etc/postgresql/{version}/main/conf.d/50-ansible.conf"
    host.check_output(f"sed -i \"s/^work_mem = .*/work_mem = '7MB'/\" {dropin}")
    host.check_output(f"systemctl reload postgresql@{version}-main")
    host.check_output(
        "for i in $(seq 50); do " + _sql_cmd("SHOW work_mem") + " | grep -qx 7MB && exit 0; sleep 0.2; done; exit 1"
    )
    started = sql(host, "SELECT pg_postmaster_start_time()")

    # reporter is not in postgresql_users this time, but exists on the server: accepted as an owner.
    monkeypatch.setenv("ANSIBLE_RUN_TAGS", "postgresql:config")
    extra_vars = {
        "postgresql_users": [user for user in CONVERGE_VARS["postgresql_users"] if user["name"] == "app"],
        "postgresql_databases": CONVERGE_VARS["postgresql_databases"] + [{"name": "reports", "owner": "reporter"}],
    }
    result = run_playbook("converge.yml", extra_vars, limit=host.backend.name)
    assert result.returncode == 0, result.stdout
    assert "RUNNING HANDLER [postgresql : Reload postgresql]" in result.stdout
    assert "RUNNING HANDLER [postgresql : Restart postgresql]" not in result.stdout
    assert sql(host, "SHOW work_mem") == converged
    assert sql(host, "SELECT pg_postmaster_start_time()") == started


def test_a_new_name_issues_the_certificate_again_with_a_reload(host, run_playbook, monkeypatch):
    """An app host reaches the server by one more name: a new certificate from the same CA, no restart."""
    if is_networked(host):
        pytest.skip("run once, on the platform with the role's defaults")
    ca = host.file(f"{SSL_DIR}/ca.crt").content_string
    started = sql(host, "SELECT pg_postmaster_start_time()")
    assert tls_login(host, "SELECT 1", name="db2.example.test", hostaddr="127.0.0.1").rc != 0

    monkeypatch.setenv("ANSIBLE_RUN_TAGS", "postgresql:ssl")
    names = CONVERGE_VARS["postgresql_ssl_names"] + ["db2.example.test"]
    result = run_playbook("converge.yml", {"postgresql_ssl_names": names}, limit=host.backend.name)
    assert result.returncode == 0, result.stdout
    assert "RUNNING HANDLER [postgresql : Reload postgresql]" in result.stdout
    assert "RUNNING HANDLER [postgresql : Restart postgresql]" not in result.stdout

    # The reload is asynchronous: the postmaster reads the new certificate when it handles SIGHUP.
    login = tls_login(host, SSL_QUERY, name="db2.example.test", hostaddr="127.0.0.1")
    for _ in range(25):
        if login.rc == 0:
            break
        time.sleep(0.2)
        login = tls_login(host, SSL_QUERY, name="db2.example.test", hostaddr="127.0.0.1")
    assert login.rc == 0, login.stderr
    assert tls_login(host, SSL_QUERY, name="db.example.test", hostaddr="127.0.0.1").rc == 0
    assert host.file(f"{SSL_DIR}/ca.crt").content_string == ca
    assert sql(host, "SELECT pg_postmaster_start_time()") == started
