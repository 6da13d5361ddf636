"""Configure the example project for its tests through the environment variables production uses."""

import os
import shutil
import tempfile

import pytest

TEST_ENVIRONMENT = {
    "DJANGO_SETTINGS_MODULE": "mysite.settings",
    "DEBUG": "0",
    "SECRET_KEY": "test-only-secret-key-not-for-production-use-0123456789abcdef",
    "ALLOWED_HOSTS": "testserver,www.example.org",
    "DATABASE_URL": "sqlite:///:memory:",
    "APP_GIT_SHA": "0123456789abcdef0123456789abcdef01234567",
    # The test client speaks plain HTTP; tests that need the redirect turn it back on.
    "SECURE_SSL_REDIRECT": "0",
    "DJANGO_LOG_LEVEL": "WARNING",
}

_static_root_key = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    # Runs before pytest-django's own pytest_configure (trylast), which calls django.setup().
    static_root = tempfile.mkdtemp(prefix="example-static-")
    config.stash[_static_root_key] = static_root
    os.environ.update(TEST_ENVIRONMENT, STATIC_ROOT=static_root)
    from django.conf import settings

    settings.DATABASES  # noqa: B018 - loads the settings module now, with the variables above


def pytest_unconfigure(config: pytest.Config) -> None:
    static_root = config.stash.get(_static_root_key, None)
    if static_root:
        shutil.rmtree(static_root, ignore_errors=True)
