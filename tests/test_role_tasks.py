"""Each role's host setup is one include in its main.yml, so that a run that skips it pays one skipped task.

A task costs the control machine about 35 ms whether it runs or is skipped (ansible-core forks a worker and
templates the task's variables for each): a run with the setup skipped (`<role>_setup: changed` or `verified`, the
site's default) must not pay for each of the setup's tasks. So in each role's tasks/main.yml, the only tasks whose
condition names `__<role>_setup_runs` are includes of the setup's files, and those files hold the setup's parts.
"""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SETUP_FILES = {"setup.yml", "setup_early.yml"}
INCLUDE = "ansible.builtin.include_tasks"


def _tasks(items):
    for item in items or []:
        yield item
        for key in ("block", "rescue", "always"):
            yield from _tasks(item.get(key))


def _conditions(task) -> str:
    when = task.get("when", [])
    return " ".join(when if isinstance(when, list) else [str(when)])


def _include_file(task) -> str | None:
    args = task.get(INCLUDE)
    return (args.get("file") if isinstance(args, dict) else args) if args is not None else None


ROLES = sorted(path.parent.parent.name for path in ROOT.glob("roles/*/tasks/setup.yml"))


def test_the_roles_with_a_setup_have_it_in_an_include():
    assert ROLES == [
        "app_code", "django", "firewall", "gunicorn", "letsencrypt", "nginx", "postgresql", "python_venv"
    ]  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
def test_only_the_setup_include_depends_on_whether_the_setup_runs(role):
    main = yaml.safe_load((ROOT / "roles" / role / "tasks" / "main.yml").read_text())
    gated = [task for task in _tasks(main) if f"__{role}_setup_runs" in _conditions(task)]
    assert gated, f"{role}: no task of main.yml runs the setup"
    assert [_include_file(task) for task in gated if _include_file(task) not in SETUP_FILES] == [], role


def _records(tasks) -> list:
    """The tasks that write the setup's record: host_state's file over raw, given record_to."""
    return [task for task in _tasks(tasks) if "'record_to'" in task.get("ansible.builtin.raw", "")]


@pytest.mark.parametrize("role", ROLES)
def test_the_setup_record_is_written_inside_the_setup_include(role):
    """Recording the setup follows a setup that ran: the record's one task sits in setup.yml, not in main.yml."""
    main = yaml.safe_load((ROOT / "roles" / role / "tasks" / "main.yml").read_text())
    setup = yaml.safe_load((ROOT / "roles" / role / "tasks" / "setup.yml").read_text())
    assert _records(main) == []
    assert len(_records(setup)) == 1
    assert not (ROOT / "roles" / role / "tasks" / "setup_record.yml").exists()


def test_collectstatic_runs_in_the_release_checks_process():
    """Django starts once for the release's checks and collectstatic (about 0.5 s a run saved): manage.yml starts no
    collectstatic of its own, checks.yml asks files/release_checks.py for it (not in check mode) one host at a time,
    and reports it in a task of its own name, before the migrations."""
    django = ROOT / "roles" / "django"
    manage = yaml.safe_load((django / "tasks" / "manage.yml").read_text())
    assert not [task for task in _tasks(manage) if "collectstatic" in str(task)]
    checks = yaml.safe_load((django / "tasks" / "checks.yml").read_text())
    run = next(task for task in _tasks(checks) if "release_checks.py" in str(task.get("ansible.builtin.raw", "")))
    assert run["vars"]["__django_checks_options"]["collectstatic"] == (
        "{{ django_collectstatic | bool and not ansible_check_mode }}"
    )
    assert run["throttle"] == 1
    names = [task.get("name") for task in _tasks(checks)]
    assert names.index("Collect the static files") > names.index(run["name"])
    assert 'wanted.get("collectstatic")' in (django / "files" / "release_checks.py").read_text()
