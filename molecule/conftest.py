"""Shared testinfra fixtures for every Molecule scenario.

Molecule hands testinfra an inventory whose hosts use the podman connection, which testinfra
runs through a full `ansible` call per command (about a second each). The `host` fixture here
talks to the same container with `podman exec` instead; `ansible_host` keeps the Ansible backend
for the few tests that need `host.ansible(...)`.
"""

import pytest
import testinfra
from testinfra.host import Host


@pytest.fixture(scope="module")
def ansible_host(_testinfra_host: Host) -> Host:
    return _testinfra_host


@pytest.fixture(scope="module")
def host(_testinfra_host: Host) -> Host:
    name = _testinfra_host.backend.host
    return testinfra.get_host(f"podman://{name}")
