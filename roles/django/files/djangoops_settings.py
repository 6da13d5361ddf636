"""Production settings laid over a Django project's own, by the django role of djangoops.django.

The role installs this module outside the release (django_settings_overlay_dir, on PYTHONPATH) and names
it as DJANGO_SETTINGS_MODULE in the environment file. It imports the project's settings module
(DJANGOOPS_SETTINGS_MODULE) as the base: installed apps, middleware, templates, storages and the rest
stay the project's. Then it sets, from the environment file, what a production deployment behind nginx
needs: SECRET_KEY, DEBUG, ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS, the default database, STATIC_ROOT and
MEDIA_ROOT in shared/, the proxy's HTTPS header, secure cookies, HSTS, logging to stderr (the journal)
and a URLconf that adds a health endpoint in front of the project's (djangoops_urls).

Static code: every value comes from the environment file, so a deploy that fails leaves the live
release's settings alone. django_settings_overlay: false turns it off for projects that read the
environment themselves.
"""

import importlib
import os
from urllib.parse import parse_qsl, unquote, urlsplit

_TRUE = {"1", "true", "yes", "on"}


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in _TRUE


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in _env(name).split(",") if item.strip()]


def _database(url: str) -> dict:
    """A DATABASES entry from the role's DATABASE_URL (postgres://... or sqlite:////absolute/path)."""
    parts = urlsplit(url)
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    if parts.scheme == "sqlite":
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": "/" + unquote(parts.path).lstrip("/"),
            "OPTIONS": options,
        }
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ValueError(f"DATABASE_URL: unsupported scheme {parts.scheme!r} (postgres or sqlite)")
    # Host as written: a name, [IPv6] or a percent-encoded unix socket directory (%2Fvar%2Frun%2Fpostgresql).
    hostport = parts.netloc.rpartition("@")[2]
    if hostport.startswith("["):
        host, _, port = hostport[1:].partition("]")
        port = port.lstrip(":")
    else:
        host, _, port = hostport.partition(":")
    host = unquote(host)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": port,
        "OPTIONS": options,
        "CONN_MAX_AGE": int(_env("DJANGOOPS_CONN_MAX_AGE", "60")),
        "CONN_HEALTH_CHECKS": True,
    }


# The project's settings, as its authors wrote them: every upper-case name, like Django reads them.
_project = importlib.import_module(os.environ["DJANGOOPS_SETTINGS_MODULE"])
globals().update((name, value) for name, value in vars(_project).items() if name.isupper())

DEBUG = _env_bool("DEBUG", default=False)
SECRET_KEY = os.environ["SECRET_KEY"]
ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS")

DATABASES = {**globals().get("DATABASES", {}), "default": _database(os.environ["DATABASE_URL"])}

# nginx serves /static/ and /media/ from shared/ (a CDN URL of the project's own stays).
STATIC_ROOT = _env("STATIC_ROOT")
MEDIA_ROOT = _env("MEDIA_ROOT")
if "://" not in str(globals().get("STATIC_URL") or ""):
    STATIC_URL = "/static/"
if "://" not in str(globals().get("MEDIA_URL") or ""):
    MEDIA_URL = "/media/"
# Hashed file names (nginx caches them forever, and the previous release keeps its own) unless the
# project chose a storage of its own (whitenoise's, S3 ...).
_storages = dict(globals().get("STORAGES") or {})
_static_backend = (_storages.get("staticfiles") or {}).get("BACKEND", "")
if _static_backend in {"", "django.contrib.staticfiles.storage.StaticFilesStorage"}:
    _storages["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}
_storages.setdefault("default", {"BACKEND": "django.core.files.storage.FileSystemStorage"})
STORAGES = _storages

# HTTPS ends at nginx, which sets X-Forwarded-Proto itself (never the client's).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = _env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
# nginx sends the Strict-Transport-Security header (and hides Django's); these make check --deploy agree.
SECURE_HSTS_SECONDS = int(_env("SECURE_HSTS_SECONDS", "0" if DEBUG else "63072000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = _env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)

# The health endpoint: the deploy's health gate asks for it over plain HTTP on the host itself.
DJANGOOPS_HEALTH_PATH = _env("DJANGOOPS_HEALTH_PATH").lstrip("/")
DJANGOOPS_REVISION = _env(_env("DJANGOOPS_REVISION_VAR"), "unknown") if _env("DJANGOOPS_REVISION_VAR") else "unknown"
if DJANGOOPS_HEALTH_PATH:
    SECURE_REDIRECT_EXEMPT = [*globals().get("SECURE_REDIRECT_EXEMPT", []), "^" + DJANGOOPS_HEALTH_PATH + "$"]
DJANGOOPS_PROJECT_URLCONF = globals().get("ROOT_URLCONF", "")
ROOT_URLCONF = "djangoops_urls"

# Errors and warnings to stderr, which systemd sends to the journal (Django's default without DEBUG
# mails them to ADMINS and prints nothing). A project's own LOGGING stays.
if "LOGGING" not in globals():
    _level = _env("DJANGO_LOG_LEVEL", "INFO").upper()
    LOGGING = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
        "root": {"handlers": ["console"], "level": _level},
        "loggers": {"django": {"handlers": ["console"], "level": _level, "propagate": False}},
    }
