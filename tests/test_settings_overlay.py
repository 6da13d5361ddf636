"""The django role's settings overlay (roles/django/files/djangoops_settings.py), imported as Django would:
with the environment file's variables and a project settings module of its own."""

import importlib
import sys
import textwrap
from pathlib import Path

import pytest

OVERLAY_DIR = Path(__file__).resolve().parent.parent / "roles" / "django" / "files"

ENV = {
    "SECRET_KEY": "s" * 50,
    "DEBUG": "false",
    "ALLOWED_HOSTS": "site.test,www.site.test",
    "CSRF_TRUSTED_ORIGINS": "https://site.test,https://www.site.test",
    "DATABASE_URL": "postgres://notes:p%40ss%2Fw%3Ard@db.site.test:5432/notes?sslmode=verify-full&sslrootcert=%2Fetc%2Fnotes%2Fca.crt",
    "STATIC_ROOT": "/srv/notes/shared/static",
    "MEDIA_ROOT": "/srv/notes/shared/media",
    "DJANGOOPS_HEALTH_PATH": "/healthz",
    "DJANGOOPS_REVISION_VAR": "APP_GIT_SHA",
    "APP_GIT_SHA": "0123456789abcdef",
    "SECURE_HSTS_SECONDS": "300",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
}

STARTPROJECT = """
    from pathlib import Path
    BASE_DIR = Path(__file__).resolve().parent
    SECRET_KEY = "django-insecure-generated"
    DEBUG = True
    ALLOWED_HOSTS = []
    INSTALLED_APPS = ["django.contrib.admin", "gallery"]
    ROOT_URLCONF = "mysite.urls"
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
    STATIC_URL = "static/"
"""


@pytest.fixture
def overlay(tmp_path, monkeypatch):
    """Import the overlay over a project settings module written to tmp_path; returns the module."""

    def load(project_source: str = STARTPROJECT, **env: str):
        package = tmp_path / "mysite"
        package.mkdir(exist_ok=True)
        (package / "__init__.py").write_text("")
        (package / "settings.py").write_text(textwrap.dedent(project_source))
        for name, value in {**ENV, "DJANGOOPS_SETTINGS_MODULE": "mysite.settings", **env}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.syspath_prepend(str(tmp_path))
        monkeypatch.syspath_prepend(str(OVERLAY_DIR))
        for module in ("djangoops_settings", "mysite", "mysite.settings"):
            sys.modules.pop(module, None)
        return importlib.import_module("djangoops_settings")

    yield load
    for module in ("djangoops_settings", "mysite", "mysite.settings"):
        sys.modules.pop(module, None)


def test_the_project_stays_the_base_and_production_values_win(overlay):
    settings = overlay()
    assert settings.INSTALLED_APPS == ["django.contrib.admin", "gallery"]
    assert settings.SECRET_KEY == "s" * 50
    assert settings.DEBUG is False
    assert settings.ALLOWED_HOSTS == ["site.test", "www.site.test"]
    assert settings.CSRF_TRUSTED_ORIGINS == ["https://site.test", "https://www.site.test"]
    assert (settings.STATIC_ROOT, settings.STATIC_URL) == ("/srv/notes/shared/static", "/static/")
    assert (settings.MEDIA_ROOT, settings.MEDIA_URL) == ("/srv/notes/shared/media", "/media/")
    assert settings.ROOT_URLCONF == "djangoops_urls"
    assert settings.DJANGOOPS_PROJECT_URLCONF == "mysite.urls"
    assert settings.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
    assert settings.SECURE_SSL_REDIRECT is True
    assert settings.SESSION_COOKIE_SECURE is True
    assert settings.CSRF_COOKIE_SECURE is True
    assert settings.SECURE_HSTS_SECONDS == 300
    assert settings.SECURE_REDIRECT_EXEMPT == ["^healthz$"]
    assert settings.DJANGOOPS_REVISION == "0123456789abcdef"
    assert (
        settings.STORAGES["staticfiles"]["BACKEND"] == "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
    )
    assert settings.LOGGING["root"]["handlers"] == ["console"]


def test_the_postgresql_url_becomes_the_default_database(overlay):
    database = overlay().DATABASES["default"]
    assert database == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "notes",
        "USER": "notes",
        "PASSWORD": "p@ss/w:rd",
        "HOST": "db.site.test",
        "PORT": "5432",
        "OPTIONS": {"sslmode": "verify-full", "sslrootcert": "/etc/notes/ca.crt"},
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


@pytest.mark.parametrize(
    ("url", "host", "port"),
    [
        ("postgres://notes@%2Fvar%2Frun%2Fpostgresql:5432/notes", "/var/run/postgresql", "5432"),
        ("postgres://notes:pw@[fd00::5]:5433/notes", "fd00::5", "5433"),
        ("postgres://notes@localhost/notes", "localhost", ""),
    ],
)
def test_socket_and_ipv6_hosts(overlay, url, host, port):
    database = overlay(DATABASE_URL=url).DATABASES["default"]
    assert (database["HOST"], database["PORT"]) == (host, port)


def test_an_sqlite_url_names_the_shared_file(overlay):
    database = overlay(DATABASE_URL="sqlite:////srv/notes/shared/db/notes.sqlite3").DATABASES["default"]
    assert database == {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": "/srv/notes/shared/db/notes.sqlite3",
        "OPTIONS": {},
    }


def test_another_scheme_is_refused(overlay):
    with pytest.raises(ValueError, match="unsupported scheme 'mysql'"):
        overlay(DATABASE_URL="mysql://notes@db/notes")


def test_the_projects_own_choices_stay(overlay):
    """whitenoise's storage, a CDN's STATIC_URL, its LOGGING, other databases and redirect exemptions."""
    settings = overlay(
        STARTPROJECT
        + """
    STATIC_URL = "https://cdn.site.test/static/"
    STORAGES = {"staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    LOGGING = {"version": 1, "handlers": {}}
    DATABASES["reports"] = {"ENGINE": "django.db.backends.sqlite3", "NAME": "/srv/reports.sqlite3"}
    SECURE_REDIRECT_EXEMPT = [r"^ping$"]
    """
    )
    assert settings.STATIC_URL == "https://cdn.site.test/static/"
    assert settings.STORAGES["staticfiles"]["BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert settings.STORAGES["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert settings.LOGGING == {"version": 1, "handlers": {}}
    assert settings.DATABASES["reports"]["NAME"] == "/srv/reports.sqlite3"
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings.SECURE_REDIRECT_EXEMPT == [r"^ping$", "^healthz$"]


def test_no_health_path_adds_no_exemption(overlay):
    settings = overlay(DJANGOOPS_HEALTH_PATH="")
    assert settings.DJANGOOPS_HEALTH_PATH == ""
    assert not hasattr(settings, "SECURE_REDIRECT_EXEMPT")
