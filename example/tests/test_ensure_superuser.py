from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_env(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "admin")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "admin@example.org")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "s3cret-admin-password")
    return monkeypatch


def run_command() -> str:
    out = StringIO()
    call_command("ensure_superuser", stdout=out)
    return out.getvalue()


def test_creates_superuser_once(superuser_env):
    assert run_command().startswith("Created:")

    admin = User.objects.get(username="admin")
    assert admin.is_superuser
    assert admin.is_staff
    assert admin.email == "admin@example.org"
    assert admin.check_password("s3cret-admin-password")

    assert run_command().startswith("Exists:")
    assert User.objects.filter(username="admin").count() == 1


def test_leaves_existing_user_unchanged(superuser_env):
    User.objects.create_user("admin", password="original-password")

    assert run_command().startswith("Exists:")
    assert User.objects.get(username="admin").check_password("original-password")


def test_requires_password(superuser_env):
    superuser_env.delenv("DJANGO_SUPERUSER_PASSWORD")

    with pytest.raises(CommandError, match="DJANGO_SUPERUSER_PASSWORD"):
        run_command()
    assert not User.objects.exists()
