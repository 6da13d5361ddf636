"""Each role with an apt task reads the installed packages first (package_facts, which needs python3-apt), once per
run, on a host the collection set up before: then the apt task is skipped when nothing is missing. "Set up before"
must mean that an apt task ran there (Ansible's apt module installs python3-apt for itself), not that the preflight
recorded the inputs: a first site.yml run that stopped after the preflight would leave a host where every later run
fails on package_facts."""

from pathlib import Path

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROOT = Path(__file__).resolve().parent.parent


def package_reads() -> list[tuple[str, dict]]:
    found = []
    for path in sorted((ROOT / "roles").glob("*/tasks/*.yml")):
        for task in yaml.safe_load(path.read_text()) or []:
            # The read before the apt task (a second read after it, e.g. postgresql's, reads what it installed).
            if isinstance(task, dict) and "ansible.builtin.package_facts" in task and "ansible_local" in str(task):
                found.append((str(path.relative_to(ROOT)), task))
    return found


def runs(task: dict, facts: dict) -> bool:
    """Whether the conditions on the facts let the task run (a role's own conditions, e.g. shared_files' client
    side, are left out)."""
    conditions = task.get("when", [])
    conditions = [
        c for c in (conditions if isinstance(conditions, list) else [conditions]) if "ansible_facts" in str(c)
    ]
    templar = Templar(loader=DataLoader(), variables={"ansible_facts": facts})
    return all(templar.evaluate_conditional(trust_as_template(str(condition))) for condition in conditions)


def test_every_role_with_an_apt_task_reads_the_packages():
    roles = {path.split("/")[1] for path, _task in package_reads()}
    assert roles == {
        "app_code",
        "backup",
        "django",
        "firewall",
        "letsencrypt",
        "nginx",
        "postgresql",
        "python_venv",
        "shared_files",
    }


@pytest.mark.parametrize(("path", "task"), package_reads(), ids=[path for path, _task in package_reads()])
def test_the_packages_are_read_once_and_only_where_an_apt_task_ran_before(path, task):
    # A fresh host, and one where only the preflight ran (a first run that stopped before any apt task).
    assert not runs(task, {})
    assert not runs(task, {"ansible_local": {"djangoops_inputs_notes": {"fingerprints": {}}}})
    # A role's setup record (written after its apt task), the site's record: read them.
    assert runs(task, {"ansible_local": {"djangoops_inputs_notes": {}, "djangoops_setup_nginx_notes": {}}})
    assert runs(task, {"ansible_local": {"djangoops_notes": {}}})
    # Read once per run.
    assert not runs(task, {"ansible_local": {"djangoops_notes": {}}, "packages": {"nginx": []}})
