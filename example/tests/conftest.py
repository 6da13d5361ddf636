# Django is set up after this file is imported (see ../conftest.py): import models inside fixtures.
from pathlib import Path

import pytest
from django.core.management import call_command


@pytest.fixture(scope="session", autouse=True)
def collected_static() -> None:
    """Collect static files once, so templates resolve hashed names from a real manifest."""
    call_command("collectstatic", "--noinput", verbosity=0)


@pytest.fixture
def media_root(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def author(django_user_model):
    return django_user_model.objects.create_user(username="alice", password="correct-horse-battery")
