"""Create the superuser named in the environment unless that user already exists.

Reads the variables Django's `createsuperuser --noinput` reads: DJANGO_SUPERUSER_USERNAME,
DJANGO_SUPERUSER_PASSWORD and DJANGO_SUPERUSER_EMAIL (optional). Unlike createsuperuser it exits 0
when the user exists, and never changes an existing user. The first word of its output says
what happened ("Created ..." or "Exists ..."), for Ansible's changed_when.
"""

import os
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


def _required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise CommandError(f"The {name} environment variable is required.")
    return value


class Command(BaseCommand):
    help = "Create the superuser from DJANGO_SUPERUSER_* variables if it does not exist yet."

    def handle(self, *args: Any, **options: Any) -> None:
        username = _required("DJANGO_SUPERUSER_USERNAME")
        password = _required("DJANGO_SUPERUSER_PASSWORD")
        email = os.environ.get("DJANGO_SUPERUSER_EMAIL", "")
        user_model = get_user_model()
        manager = user_model._default_manager
        if manager.filter(**{user_model.USERNAME_FIELD: username}).exists():
            self.stdout.write(f"Exists: user {username!r} is already present; left unchanged.")
            return
        manager.create_superuser(
            **{user_model.USERNAME_FIELD: username}, email=email, password=password
        )
        self.stdout.write(f"Created: superuser {username!r}.")
