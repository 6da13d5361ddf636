"""Start the project in a fresh interpreter with a given environment, as systemd would."""

import os
import subprocess
import sys
from pathlib import Path

from django.core.management.utils import get_random_secret_key

EXAMPLE_DIR = Path(__file__).resolve().parent.parent

PRODUCTION_ENVIRONMENT = {
    "DEBUG": "0",
    "ALLOWED_HOSTS": "www.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://www.example.org",
    "DATABASE_URL": "sqlite:////tmp/example-settings-test.sqlite3",
}


def manage(*args: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """Run manage.py with only PATH and the given variables in its environment."""
    env = {"PATH": os.environ["PATH"], "PYTHONDONTWRITEBYTECODE": "1", **environment}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=EXAMPLE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_refuses_to_start_without_secret_key():
    result = manage("check", **PRODUCTION_ENVIRONMENT)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_refuses_to_start_without_database_url():
    env = {**PRODUCTION_ENVIRONMENT, "SECRET_KEY": get_random_secret_key()}
    del env["DATABASE_URL"]

    result = manage("check", **env)

    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_rejects_unparsable_boolean():
    env = {**PRODUCTION_ENVIRONMENT, "SECRET_KEY": get_random_secret_key()}

    result = manage("check", **env, SESSION_COOKIE_SECURE="maybe")

    assert result.returncode != 0
    assert "SESSION_COOKIE_SECURE" in result.stderr


def test_debug_runs_without_secret_key_or_database_url():
    result = manage("check", DEBUG="1")

    assert result.returncode == 0, result.stderr


def deploy_check(**environment: str) -> subprocess.CompletedProcess[str]:
    env = {**PRODUCTION_ENVIRONMENT, "SECRET_KEY": get_random_secret_key(), **environment}
    return manage("check", "--deploy", "--fail-level", "WARNING", **env)


def test_deploy_check_passes_with_https_defaults():
    result = deploy_check()

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr


def test_deploy_check_fails_when_hsts_is_turned_off():
    result = deploy_check(SECURE_HSTS_SECONDS="0")

    assert result.returncode != 0
    assert "security.W004" in result.stderr
