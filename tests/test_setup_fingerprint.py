"""The fingerprint of a role's host setup (plugins/filter/setup.py), which `<role>_setup: changed` compares
with the one recorded on the host, and the roles that use it."""

import importlib.util
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("setup", ROOT / "plugins" / "filter" / "setup.py")
setup = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(setup)

ROLES = ["app_code", "python_venv", "django", "gunicorn"]


@pytest.fixture
def role(tmp_path):
    shutil.copytree(ROOT / "roles" / "gunicorn", tmp_path / "gunicorn")
    return tmp_path / "gunicorn"


def test_the_same_inputs_and_files_give_the_same_fingerprint(role):
    first = setup.setup_fingerprint({"a": 1, "b": ["x", "y"]}, str(role))
    assert first == setup.setup_fingerprint({"b": ["x", "y"], "a": 1}, str(role))
    assert len(first) == 64


def test_a_changed_input_changes_the_fingerprint(role):
    assert setup.setup_fingerprint({"workers": 2}, str(role)) != setup.setup_fingerprint({"workers": 3}, str(role))


def test_a_changed_role_file_changes_the_fingerprint(role):
    before = setup.setup_fingerprint({}, str(role))
    template = role / "templates" / "gunicorn.service.j2"
    template.write_text(template.read_text() + "# changed\n")
    assert setup.setup_fingerprint({}, str(role)) != before


def test_the_readme_is_not_part_of_the_fingerprint(role):
    before = setup.setup_fingerprint({}, str(role))
    (role / "README.md").write_text("another text\n")
    assert setup.setup_fingerprint({}, str(role)) == before


def test_a_missing_role_directory_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not a role directory"):
        setup.setup_fingerprint({}, str(tmp_path / "nowhere"))


def test_setup_inputs_leave_out_the_secrets_and_the_named_inputs():
    spec = yaml.safe_dump(
        {
            "argument_specs": {
                "main": {
                    "options": {
                        "x_workers": {"type": "int"},
                        "x_password": {"type": "str", "no_log": True},
                        "x_release_path": {"type": "str"},
                    }
                }
            }
        }
    )
    assert setup.setup_inputs(spec, ["x_release_path"]) == ["x_workers"]
    # The app role's input checks read the secrets: their fingerprint keeps them (recorded readable by root only).
    assert setup.setup_inputs(spec, ["x_release_path"], secrets=True) == ["x_password", "x_workers"]


def test_setup_inputs_leave_out_an_option_that_holds_a_secret():
    """django_superuser: {username, email, password (no_log)}: no hash of the password in a record others read."""
    spec = yaml.safe_dump(
        {
            "argument_specs": {
                "main": {
                    "options": {
                        "x_admin": {"type": "dict", "options": {"name": {}, "password": {"no_log": True}}},
                        "x_port": {"type": "int"},
                    }
                }
            }
        }
    )
    assert setup.setup_inputs(spec, []) == ["x_port"]
    assert setup.setup_inputs(spec, [], secrets=True) == ["x_admin", "x_port"]
    django = (ROOT / "roles" / "django" / "meta" / "argument_specs.yml").read_text()
    assert "django_superuser" not in setup.setup_inputs(django, [])


def test_a_fingerprint_over_several_directories_changes_with_a_file_of_any(role, tmp_path):
    """The app role's input checks: the fingerprint covers the files of every role checked and of the plugins."""
    plugins = tmp_path / "plugins"
    (plugins / "test").mkdir(parents=True)
    (plugins / "test" / "names.py").write_text("RULE = 1\n")
    before = setup.setup_fingerprint({"a": 1}, [str(role), str(plugins)])
    assert before != setup.setup_fingerprint({"a": 1}, str(role))
    assert before == setup.setup_fingerprint({"a": 1}, (str(role), str(plugins)))
    (plugins / "test" / "names.py").write_text("RULE = 2\n")
    assert setup.setup_fingerprint({"a": 1}, [str(role), str(plugins)]) != before
    with pytest.raises(ValueError, match="not a role directory"):
        setup.setup_fingerprint({}, [str(role), str(tmp_path / "nowhere")])


@pytest.mark.parametrize("name", [*ROLES, "firewall", "nginx", "letsencrypt", "postgresql"])
def test_each_role_leaves_out_only_inputs_it_has(name):
    """A name in __<role>_setup_left_out that the spec lacks is a typo: that input would stay in the fingerprint."""
    spec = yaml.safe_load((ROOT / "roles" / name / "meta" / "argument_specs.yml").read_text())
    options = spec["argument_specs"]["main"]["options"]
    left_out = yaml.safe_load((ROOT / "roles" / name / "vars" / "main.yml").read_text())[f"__{name}_setup_left_out"]
    assert f"{name}_setup" in left_out
    assert set(left_out) <= set(options), set(left_out) - set(options)


def test_the_preflight_knows_which_roles_have_a_setup_mode():
    """roles/app leaves each <role>_setup out of its input fingerprints and checks them on every run instead: the
    list of the roles that have one must be every such role, or a bad mode of a missing one would go unchecked."""
    app_vars = yaml.safe_load((ROOT / "roles" / "app" / "vars" / "main.yml").read_text())
    with_mode = {
        name
        for name in app_vars["__app_roles"]
        if f"{name}_setup"
        in yaml.safe_load((ROOT / "roles" / name / "meta" / "argument_specs.yml").read_text())["argument_specs"][
            "main"
        ]["options"]
    }
    assert set(app_vars["__app_setup_roles"]) == with_mode


@pytest.mark.parametrize("name", ROLES)
def test_each_role_keeps_the_release_out_of_the_fingerprint(name):
    """Inputs whose default names the release (its path, its sha) change with every deploy: never in the fingerprint."""
    defaults = yaml.safe_load((ROOT / "roles" / name / "defaults" / "main.yml").read_text())
    left_out = yaml.safe_load((ROOT / "roles" / name / "vars" / "main.yml").read_text())[f"__{name}_setup_left_out"]
    wiring = yaml.safe_load((ROOT / "playbooks" / "vars" / "site.yml").read_text())
    per_release = {
        key
        for key, value in {**defaults, **wiring}.items()
        if key.startswith(name + "_") and isinstance(value, str) and ("release_path" in value or "release_sha" in value)
    }
    assert per_release <= set(left_out), per_release - set(left_out)


def test_packages_missing_lists_the_names_the_package_facts_lack():
    facts = {"packages": {"nginx": [{"version": "1.22.1-9"}], "git": [{"version": "1:2.39.5-0"}]}}
    assert setup.packages_missing(["nginx", "git"], facts) == []
    assert setup.packages_missing(["nginx", "certbot", "git=1:2.39.5-0"], facts) == ["certbot", "git=1:2.39.5-0"]


def test_packages_missing_lists_every_name_without_package_facts():
    assert setup.packages_missing(["nginx", "git"], {"distribution": "Debian"}) == ["nginx", "git"]
    assert setup.packages_missing(["nginx"], {}) == ["nginx"]


@pytest.mark.parametrize(
    ("mode", "record", "probe", "runs"),
    [
        ("always", {"fingerprint": "f", "state": "s"}, {"digest": "s"}, True),
        ("changed", {"fingerprint": "f", "state": "s"}, {}, False),
        ("changed", {"fingerprint": "old", "state": "s"}, {}, True),
        ("changed", {}, {}, True),  # never recorded
        ("changed", {"fingerprint": "f", "state": "s"}, {"digest": "drifted"}, False),  # changed reads no state
        ("verified", {"fingerprint": "f", "state": "s"}, {"digest": "s"}, False),
        ("verified", {"fingerprint": "f", "state": "s"}, {"digest": "drifted"}, True),
        ("verified", {"fingerprint": "f"}, {"digest": "s"}, True),  # recorded before records held a state
        ("verified", {"fingerprint": "f", "state": "s"}, {"skipped": True}, True),  # no state read
        ("verified", {"fingerprint": "old", "state": "s"}, {"skipped": True}, True),
    ],
)
def test_setup_runs_by_mode_record_and_state(mode, record, probe, runs):
    assert setup.setup_runs(mode, record, "f", probe) is runs


NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
DAYS_30 = 30 * 86400


@pytest.mark.parametrize(
    ("mode", "not_after", "runs"),
    [
        ("changed", {"ca.crt": "2036-12-01T10:00:00Z", "server.crt": "2029-03-10T10:00:00Z"}, False),
        ("changed", {"ca.crt": "2036-12-01T10:00:00Z", "server.crt": "2027-01-04T11:59:59Z"}, True),  # in 30 days
        ("changed", {"server.crt": "2027-01-04T12:00:01Z"}, False),  # just outside
        ("changed", {"server.crt": "2026-11-30T00:00:00Z"}, True),  # expired
        ("changed", {"server.crt": "not a date"}, True),  # unreadable: renew rather than trust it
        ("changed", {}, False),  # no certificates recorded (postgresql_ssl false)
        ("verified", {"server.crt": "2026-12-20T00:00:00Z"}, True),
    ],
)
def test_setup_runs_when_a_recorded_certificate_comes_within_the_renewal_window(mode, not_after, runs):
    record = {"fingerprint": "f", "state": "s", "not_after": not_after}
    assert setup.setup_runs(mode, record, "f", {"digest": "s"}, DAYS_30, NOW) is runs


def test_setup_runs_reads_no_expiry_without_a_renewal_window():
    record = {"fingerprint": "f", "state": "s", "not_after": {"server.crt": "2026-11-30T00:00:00Z"}}
    assert setup.setup_runs("changed", record, "f", {}) is False


def test_setup_runs_uses_the_controllers_clock_by_default():
    record = {"fingerprint": "f", "not_after": {"server.crt": "2000-01-01T00:00:00Z"}}
    assert setup.setup_runs("changed", record, "f", {}, DAYS_30) is True
    record["not_after"] = {"server.crt": "2999-01-01T00:00:00Z"}
    assert setup.setup_runs("changed", record, "f", {}, DAYS_30) is False


def test_postgresql_leaves_the_users_and_their_passwords_out_of_the_fingerprint():
    """Users, their passwords and databases are managed on every run: nothing of them enters the record."""
    spec = (ROOT / "roles" / "postgresql" / "meta" / "argument_specs.yml").read_text()
    left_out = yaml.safe_load((ROOT / "roles" / "postgresql" / "vars" / "main.yml").read_text())[
        "__postgresql_setup_left_out"
    ]
    names = setup.setup_inputs(spec, left_out)
    assert "postgresql_users" not in names
    assert "postgresql_databases" not in names
    assert {"postgresql_port", "postgresql_shared_buffers", "postgresql_hba_entries", "postgresql_ssl_names"} <= set(
        names
    )


def test_setup_runs_refuses_an_unknown_mode():
    with pytest.raises(ValueError, match="always, changed or verified"):
        setup.setup_runs("sometimes", {}, "f", {})


@pytest.mark.parametrize("name", [*ROLES, "firewall", "nginx", "letsencrypt", "postgresql"])
def test_each_role_decides_with_setup_runs(name):
    """One decision for every role, not a copy of the expression per role."""
    runs = yaml.safe_load((ROOT / "roles" / name / "vars" / "main.yml").read_text())[f"__{name}_setup_runs"]
    call = rf"\b{name}_setup\s*\|\s*djangoops\.django\.setup_runs\(__{name}_setup_record, __{name}_setup_fingerprint,"
    assert re.search(call, runs), runs
