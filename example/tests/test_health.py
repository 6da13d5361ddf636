from unittest import mock

import pytest
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper

pytestmark = pytest.mark.django_db

GIT_SHA = "0123456789abcdef0123456789abcdef01234567"  # APP_GIT_SHA in conftest.py


def test_healthy_when_database_answers(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "git_sha": GIT_SHA}
    assert "no-cache" in response["Cache-Control"]


def test_unhealthy_when_database_fails(client):
    with mock.patch.object(
        BaseDatabaseWrapper, "cursor", side_effect=OperationalError("connection refused")
    ):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unavailable", "git_sha": GIT_SHA}


def test_health_is_exempt_from_https_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/healthz").status_code == 200
    redirected = client.get("/")
    assert redirected.status_code == 301
    assert redirected["Location"] == "https://testserver/"


def test_health_accepts_only_safe_methods(client):
    assert client.post("/healthz").status_code == 405
