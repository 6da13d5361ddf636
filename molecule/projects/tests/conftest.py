"""Fixtures of the project_* scenarios' shared tests."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from project import CA


@pytest.fixture(scope="module", autouse=True)
def pebble_root(host):
    """Pebble's root certificate: the served chain must verify against it."""
    host.check_output(f"curl -sS --fail --cacert /etc/pebble/cert.pem -o {CA} https://localhost:15000/roots/0")
