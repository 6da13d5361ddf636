"""The site's playbooks skip a role's own argument spec check only where preflight.yml has checked it.

The tier playbooks (playbooks/app.yml, web.yml ...) import or include the roles with `rolespec_validate: false`:
preflight.yml's role (roles/app) checks the argument spec of every role a host runs, against its `main` entry
point, before any tier changes anything. That holds only while
- each such role is one roles/app checks (its __app_roles);
- each entry point called that way has no option that `main` lacks (the check reads `main`'s options);
- each playbook that calls them that way is reached only after preflight.yml: every playbook importing it imports
  preflight.yml first, and its plays gather no facts of their own (they read those preflight.yml gathered).
"""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PLAYBOOKS = ROOT / "playbooks"
ROLE_ACTIONS = ("ansible.builtin.import_role", "ansible.builtin.include_role")


def _load(path: Path):
    return yaml.safe_load(path.read_text()) or []


def _tasks(items):
    """Every task of a list of tasks, blocks included."""
    for item in items or []:
        yield item
        for key in ("block", "rescue", "always"):
            yield from _tasks(item.get(key))


def _role_calls(path: Path):
    """(play, role call args) for each import_role / include_role of a playbook."""
    for play in _load(path):
        for section in ("pre_tasks", "tasks", "post_tasks", "handlers"):
            for task in _tasks(play.get(section)):
                for action in ROLE_ACTIONS:
                    if action in task:
                        yield play, task[action]


def _unchecked_playbooks():
    return sorted(
        path
        for path in PLAYBOOKS.glob("*.yml")
        if any(args.get("rolespec_validate") is False for _, args in _role_calls(path))
    )


def _imports(path: Path) -> list[str]:
    key = "ansible.builtin.import_playbook"
    return [Path(item[key]).name for item in _load(path) if key in item]


def _checked_roles() -> list[str]:
    return yaml.safe_load((ROOT / "roles" / "app" / "vars" / "main.yml").read_text())["__app_roles"]


def test_the_tier_playbooks_skip_the_check_preflight_did():
    assert {p.name for p in _unchecked_playbooks()} >= {
        "app.yml",
        "web.yml",
        "database.yml",
        "firewall.yml",
        "shared_files.yml",
        "backups.yml",
    }


@pytest.mark.parametrize("path", _unchecked_playbooks(), ids=lambda p: p.name)
def test_each_role_called_unchecked_is_checked_by_preflight_with_the_options_of_its_entry_point(path):
    for _, args in _role_calls(path):
        if args.get("rolespec_validate") is not False:
            continue
        role = args["name"].removeprefix("djangoops.django.")
        assert role in _checked_roles(), f"{path.name}: {role} is not a role roles/app checks"
        specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
        entry = args.get("tasks_from", "main")
        extra = set((specs.get(entry) or {}).get("options") or {}) - set(specs["main"].get("options") or {})
        assert not extra, f"{path.name}: {role}'s entry point {entry} has options main lacks: {sorted(extra)}"


@pytest.mark.parametrize("path", _unchecked_playbooks(), ids=lambda p: p.name)
def test_each_playbook_calling_roles_unchecked_runs_only_after_preflight(path):
    assert "preflight.yml" not in _imports(path)
    for play in _load(path):
        assert play.get("gather_facts") is False, f"{path.name}: {play['name']} gathers facts: a play run on its own?"
    importers = [p for p in [*PLAYBOOKS.glob("*.yml"), ROOT / "site.yml"] if path.name in _imports(p)]
    assert importers, f"{path.name} is imported by no playbook"
    for importer in importers:
        names = _imports(importer)
        before = names[: names.index(path.name)]
        assert "preflight.yml" in before, f"{importer.name} imports {path.name} before preflight.yml"
