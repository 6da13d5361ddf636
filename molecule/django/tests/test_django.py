"""The django role prepared the example project's release against PostgreSQL, as a user checks it."""

import hashlib
import json
import re
import shlex

import pytest

APP = "notes"
ENV_FILE = f"/etc/{APP}/env"
SECRET_KEY_FILE = f"/etc/{APP}/secret_key"
RELEASE = f"/srv/{APP}/releases/20250101000000-0123456"
STATIC = f"/srv/{APP}/shared/static"
QUOTED = 'it\'s "$HOME" `id` 100% \\ ok'
DB_HOST = "db.notes.test"
# The postgresql role's CA (prepare.yml ran it), which converge.yml hands to the django role.
DB_CA_FILE = "/etc/postgresql/djangoops-ssl/ca.crt"


def as_app(host, script: str, *args: str):
    """Run a shell script as the app user with the environment file loaded, as an operator would."""
    inner = f"set -a; . {ENV_FILE}; set +a; {script}"
    quoted = " ".join(shlex.quote(arg) for arg in args)
    return host.run(f"runuser -u {APP} -- sh -c {shlex.quote(inner)} sh {quoted}")


def manage(host, *args: str):
    return as_app(host, f'cd {RELEASE}/example && exec {RELEASE}/.venv/bin/python manage.py "$@"', *args)


def psql(host, query: str) -> str:
    return host.check_output(f"runuser -u postgres -- psql -d {APP} -Atc {shlex.quote(query)}")


def env_value(host, name: str) -> str:
    result = as_app(host, f'printf %s "${name}"')
    assert result.rc == 0, result.stderr
    return result.stdout


def test_env_file_is_root_owned_and_readable_by_the_app_group_only(host):
    env = host.file(ENV_FILE)
    assert env.is_file
    assert (env.user, env.group, env.mode) == ("root", APP, 0o640)


def test_generated_secret_key_is_long_and_kept_root_only(host):
    key = env_value(host, "SECRET_KEY")
    assert len(key) >= 50
    assert len(set(key)) >= 5
    stored = host.file(SECRET_KEY_FILE)
    assert (stored.user, stored.group, stored.mode) == ("root", "root", 0o600)
    assert stored.content_string.strip() == key


def test_other_users_cannot_read_the_secrets(host):
    assert host.run(f"runuser -u nobody -- cat {ENV_FILE}").rc != 0
    assert host.run(f"runuser -u {APP} -- cat {SECRET_KEY_FILE}").rc != 0


def root_cert_file(host) -> str:
    """Where the role keeps the CA certificate: named after the sha256 of its content."""
    pem = host.file(DB_CA_FILE).content_string.strip() + "\n"
    return f"/etc/{APP}/postgresql-root-{hashlib.sha256(pem.encode()).hexdigest()[:16]}.crt"


def test_environment_holds_the_settings(host):
    assert env_value(host, "DEBUG") == "false"
    # The settings overlay is the settings module; it imports the project's.
    assert env_value(host, "DJANGO_SETTINGS_MODULE") == "djangoops_settings"
    assert env_value(host, "DJANGOOPS_SETTINGS_MODULE") == "mysite.settings"
    assert env_value(host, "PYTHONPATH") == f"/etc/{APP}/python"
    # django_env_aliases: the project's own name for a variable the role writes.
    assert env_value(host, "DJANGO_SECRET_KEY") == env_value(host, "SECRET_KEY")
    assert env_value(host, "ALLOWED_HOSTS") == "notes.example.test,localhost"
    assert env_value(host, "CSRF_TRUSTED_ORIGINS") == "https://notes.example.test,https://localhost"
    assert env_value(host, "STATIC_ROOT") == STATIC
    assert env_value(host, "MEDIA_ROOT") == f"/srv/{APP}/shared/media"
    assert env_value(host, "DJANGO_LOG_LEVEL") == "WARNING"
    # The password p@ss/w:rd%20'x, percent-encoded.
    assert env_value(host, "DATABASE_URL") == (
        f"postgres://notes:p%40ss%2Fw%3Ard%2520%27x@{DB_HOST}:5432/notes"
        f"?sslmode=verify-full&sslrootcert={root_cert_file(host)}"
    )


def test_the_settings_overlay_is_root_owned_and_readable(host):
    for module in ("djangoops_settings.py", "djangoops_urls.py"):
        overlay = host.file(f"/etc/{APP}/python/{module}")
        assert (overlay.user, overlay.group, overlay.mode) == ("root", "root", 0o644)
        assert host.run(f"runuser -u {APP} -- cat /etc/{APP}/python/{module}").rc == 0


def test_django_sees_the_project_under_the_production_settings(host):
    """What Django itself reads: the project's apps and URLs, the role's production values."""
    code = (
        "import json; from django.conf import settings as s; print(json.dumps({"
        "'debug': s.DEBUG, 'apps': 'notes' in s.INSTALLED_APPS,"
        "'urlconf': [s.ROOT_URLCONF, s.DJANGOOPS_PROJECT_URLCONF],"
        "'proxy': list(s.SECURE_PROXY_SSL_HEADER), 'cookies': [s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE],"
        "'redirect': s.SECURE_SSL_REDIRECT, 'hsts': s.SECURE_HSTS_SECONDS, 'static': [s.STATIC_ROOT, s.STATIC_URL],"
        "'media': [str(s.MEDIA_ROOT), s.MEDIA_URL],"
        "'db': [s.DATABASES['default']['HOST'], s.DATABASES['default']['NAME']],"
        "'storage': s.STORAGES['staticfiles']['BACKEND']}))"
    )
    result = manage(host, "shell", "-c", code)
    assert result.rc == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {
        "debug": False,
        "apps": True,
        "urlconf": ["djangoops_urls", "mysite.urls"],
        "proxy": ["HTTP_X_FORWARDED_PROTO", "https"],
        "cookies": [True, True],
        "redirect": True,
        "hsts": 63072000,
        "static": [STATIC, "/static/"],
        "media": [f"/srv/{APP}/shared/media", "/media/"],
        "db": [DB_HOST, APP],
        "storage": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage",
    }


def test_the_health_endpoint_answers_over_plain_http_with_the_sha(host):
    """The overlay's /healthz: exempt from the SSL redirect, the release's sha, the database asked."""
    code = (
        "import json; from django.test import Client; "
        "health = Client().get('/healthz', HTTP_HOST='localhost'); "
        "other = Client().get('/no-such-page/', HTTP_HOST='localhost'); "
        "print(json.dumps([health.status_code, json.loads(health.content), other.status_code]))"
    )
    result = as_app(
        host,
        f'cd {RELEASE}/example && APP_GIT_SHA=0123456789abcdef exec {RELEASE}/.venv/bin/python manage.py "$@"',
        "shell",
        "-c",
        code,
    )
    assert result.rc == 0, result.stderr
    status, body, other = json.loads(result.stdout.strip().splitlines()[-1])
    assert status == 200
    assert body == {"status": "ok", "database": "ok", "git_sha": "0123456789abcdef"}
    # Everything else is redirected to HTTPS, like any production page.
    assert other == 301


def test_root_certificate_is_public_and_the_only_one(host):
    cert = host.file(root_cert_file(host))
    assert (cert.user, cert.group, cert.mode) == ("root", "root", 0o644)
    assert cert.content_string == host.file(DB_CA_FILE).content_string
    assert host.run(f"runuser -u {APP} -- cat {root_cert_file(host)}").rc == 0
    assert host.check_output(f"ls /etc/{APP}/postgresql-root-*.crt") == root_cert_file(host)


def test_app_connects_over_tls_that_verifies_the_server(host):
    code = (
        "from django.db import connection; "
        "cursor = connection.cursor(); "
        "cursor.execute('SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()'); "
        "encrypted, version = cursor.fetchone(); "
        "print(connection.settings_dict['HOST'], connection.settings_dict['OPTIONS']['sslmode'], encrypted, version)"
    )
    result = manage(host, "shell", "-c", code)
    assert result.rc == 0, result.stderr
    db_host, sslmode, encrypted, version = result.stdout.strip().splitlines()[-1].split()
    assert (db_host, sslmode, encrypted) == (DB_HOST, "verify-full", "True")
    assert version.startswith("TLSv1.")


def test_the_url_refuses_a_server_another_ca_signed(host):
    """The environment's URL with the system's CA bundle in place of the database's CA: libpq refuses."""
    result = as_app(
        host,
        'exec psql -XAtq "$(printf %s "$DATABASE_URL" | sed "s|sslrootcert=[^&]*|sslrootcert=$1|")" -c "SELECT 1"',
        "/etc/ssl/certs/ca-certificates.crt",
    )
    assert result.rc != 0
    assert "certificate verify failed" in result.stderr
    assert as_app(host, 'exec psql -XAtq "$DATABASE_URL" -c "SELECT 1"').stdout.strip() == "1"


def test_environment_file_does_not_carry_the_release_sha(host):
    # Shared by every release: the sha comes from the active release's REVISION instead.
    assert not re.search(r"^APP_GIT_SHA=", host.file(ENV_FILE).content_string, re.MULTILINE)


def test_systemd_and_the_shell_read_the_same_values(host):
    out = "/run/django-env-test.out"
    host.run(f"rm -f {out}")
    started = host.run(
        # A oneshot unit: systemd-run returns once the process has exited (no D-Bus needed).
        f"systemd-run --quiet -p Type=oneshot -p EnvironmentFile={ENV_FILE} -p StandardOutput=file:{out} "
        "/usr/bin/printenv SCENARIO_QUOTED DATABASE_URL SECRET_KEY"
    )
    assert started.rc == 0, started.stderr
    from_systemd = host.file(out).content_string.splitlines()
    assert from_systemd == [QUOTED, env_value(host, "DATABASE_URL"), env_value(host, "SECRET_KEY")]
    assert env_value(host, "SCENARIO_QUOTED") == QUOTED


def test_management_commands_got_the_release_sha(host):
    revision = host.file(f"{RELEASE}/REVISION").content_string.strip()
    assert host.file("/tmp/scenario-revision").content_string == revision


def test_migrations_applied_by_the_app_database_user(host):
    assert psql(host, "SELECT name FROM django_migrations WHERE app = 'notes'") == "0001_initial"
    # Created over DATABASE_URL, with the percent-encoded password: the table is the app user's.
    assert psql(host, "SELECT tableowner FROM pg_tables WHERE tablename = 'notes_note'") == APP
    assert psql(host, "SELECT count(*) FROM notes_note") == "0"
    plan = manage(host, "migrate", "--check")
    assert plan.rc == 0, plan.stdout + plan.stderr


def test_hashed_static_files_in_shared_static(host):
    manifest = json.loads(host.file(f"{STATIC}/staticfiles.json").content_string)
    hashed = manifest["paths"]["notes/site.css"]
    assert hashed != "notes/site.css"
    assert hashed.startswith("notes/site.")
    css = host.file(f"{STATIC}/{hashed}")
    assert css.is_file
    assert css.user == APP
    assert host.file(f"{STATIC}/{manifest['paths']['admin/css/base.css']}").is_file


def test_deploy_checks_pass(host):
    result = manage(host, "check", "--deploy", "--fail-level", "WARNING")
    assert result.rc == 0, result.stderr
    assert "no issues" in result.stdout


def test_superuser_can_log_in(host):
    code = (
        "from django.contrib.auth import authenticate; "
        "user = authenticate(username='admin', password='correct horse battery staple'); "
        "print('superuser' if user and user.is_superuser else 'refused')"
    )
    result = manage(host, "shell", "-c", code)
    assert result.rc == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "superuser"


def test_the_superuser_is_looked_up_with_the_checks_and_made_again_when_gone(host, run_playbook, task_hosts):
    """The release's checks find the superuser, so no second Django process starts for it; a superuser
    removed since is created again on the next run, and only then."""
    superuser = "Create the superuser when missing"
    result = run_playbook("converge.yml", limit=host.backend.name)
    assert result.returncode == 0, result.stdout[-3000:]
    assert task_hosts(result.stdout, superuser) == [("skipping", host.backend.name)], result.stdout[-3000:]

    removed = manage(
        host,
        "shell",
        "-c",
        "from django.contrib.auth.models import User; User.objects.filter(username='admin').delete()",
    )
    assert removed.rc == 0, removed.stderr
    result = run_playbook("converge.yml", limit=host.backend.name)
    assert result.returncode == 0, result.stdout[-3000:]
    assert task_hosts(result.stdout, superuser) == [("changed", host.backend.name)], result.stdout[-3000:]
    test_superuser_can_log_in(host)


def _checksums(host) -> str:
    return host.check_output(f"sha256sum {ENV_FILE} {ENV_FILE}.pending {SECRET_KEY_FILE}")


@pytest.mark.parametrize(
    ("extra_vars", "message"),
    [
        ({"django_database_engine": "mysql"}, "django_database_engine"),
        ({"django_allowed_hosts": []}, "django_allowed_hosts must list host names"),
        ({"django_allowed_hosts": ["https://django.test"]}, "django_allowed_hosts must list host names"),
        ({"django_app_name": "Notes"}, "django_app_name must be a system user name"),
        ({"django_settings_module": "mysite/settings"}, "django_settings_module must be a dotted Python module path"),
        ({"django_env_extra": {"SECRET_KEY": "x"}}, "django_env_extra must map environment variable names"),
        ({"django_project_dir": "src"}, "check django_release_path, django_project_dir and django_venv_path"),
        (
            {"django_env_aliases": {"DJANGO_KEY": "SECRET"}},
            "django_env_aliases must map new environment variable names",
        ),
        ({"django_env_aliases": {"DEBUG": "SECRET_KEY"}}, "django_env_aliases must map new environment variable names"),
        ({"django_health_check_path": "healthz"}, "django_health_check_path a URL path starting with '/'"),
        (
            {"django_database_ssl_root_cert": ""},
            "verify-ca and verify-full need django_database_ssl_root_cert",
        ),
        (
            {"django_database_ssl_root_cert": "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"},
            "django_database_ssl_root_cert must be one or more certificates in PEM form",
        ),
        ({"django_database_engine": "sqlite"}, "they need django_database_engine postgresql"),
    ],
)
def test_bad_input_is_refused_before_any_change(host, run_playbook, extra_vars, message):
    before = _checksums(host)
    result = run_playbook("converge.yml", extra_vars, limit=host.backend.name)
    assert result.returncode != 0
    assert message in result.stdout
    assert "changed=0" in result.stdout
    assert _checksums(host) == before


def test_failed_deploy_check_stops_and_leaves_the_live_environment(host, run_playbook):
    """Another converge, stopped by check --deploy: the live file stays, the key is reused."""
    live = host.file(ENV_FILE).content_string
    result = run_playbook("converge.yml", {"django_debug": True}, limit=host.backend.name)
    assert result.returncode != 0
    # Django's own findings, and the variable that relaxes the check.
    assert "security.W018" in result.stdout
    assert "failed (django_check_fail_level relaxes it)" in result.stdout
    assert host.file(ENV_FILE).content_string == live
    # The rejected candidate reused the generated key.
    assert f'SECRET_KEY="{env_value(host, "SECRET_KEY")}"' in host.file(f"{ENV_FILE}.pending").content_string


def test_a_root_certificate_that_did_not_sign_the_server_stops_the_deploy(host, run_playbook):
    """Another CA's certificate: verify-full refuses the database, the live environment stays."""
    live = host.file(ENV_FILE).content_string
    other_ca = host.file("/etc/ssl/certs/ssl-cert-snakeoil.pem").content_string
    result = run_playbook("converge.yml", {"django_database_ssl_root_cert": other_ca}, limit=host.backend.name)
    assert result.returncode != 0
    assert "certificate verify failed" in result.stdout
    assert host.file(ENV_FILE).content_string == live
    assert f"sslrootcert={root_cert_file(host)}" in env_value(host, "DATABASE_URL")
