"""No secret value in what site.yml and deploy.yml print at -vvv with --diff, while the secrets change
hands: the database and admin passwords (from ansible-vault encrypted strings, with a vault password
file made here), the scenario's SECRET_KEY and the one each host generates, and a deploy key.

The runs, each once against the scenario's instances (these tests take no `host` fixture, so testinfra runs
each once):
1. site.yml with django_secret_key "": each host's generated SECRET_KEY replaces the scenario's (the
   environment file changes, Gunicorn reloads).
2. deploy.yml --check: the scenario's SECRET_KEY would come back.
3. deploy.yml: it does (the environment file changes again).
4. deploy.yml with a deploy key as an extra variable: refused (the scenario's repository is file://).
"""

import os
import re
import secrets
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from site_runs import changed_tasks, instances, sh_each

SITE, DEPLOY = "../../site.yml", "../../playbooks/deploy.yml"
APP = "notes"
VERBOSE = ["-vvv", "--diff"]
ENV_TASK = "djangoops.django.django : Write the environment file for this release"
# A well-formed key, unique to the run (the scenario's file:// repository takes none, so it is refused).
DEPLOY_KEY_BODY = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ" + secrets.token_hex(12)
DEPLOY_KEY = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{DEPLOY_KEY_BODY}\n-----END OPENSSH PRIVATE KEY-----\n"


def _scenario_vars() -> dict:
    molecule_yml = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"]) / "molecule.yml"
    return yaml.safe_load(molecule_yml.read_text())["provisioner"]["inventory"]["group_vars"]["all"]


def _generated_keys() -> dict[str, str]:
    """The SECRET_KEY each instance generated (django_secret_key "" makes one once; "" when none yet)."""

    keys = sh_each(f"cat /etc/{APP}/secret_key 2>/dev/null || true")
    return {f"the SECRET_KEY {name} generated": key.strip() for name, key in keys.items()}


def _vaulted(value: str, password_file: Path) -> list[str]:
    """The ciphertext lines of `value` as ansible-vault encrypt_string writes them under `!vault |`."""
    command = ["ansible-vault", "encrypt_string", "--vault-password-file", str(password_file), value]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    lines = [line.strip() for line in out.splitlines()]
    assert lines[0] == "!vault |", out
    assert lines[1].startswith("$ANSIBLE_VAULT;"), out
    return lines[1:]


@pytest.fixture(scope="module")
def vault(tmp_path_factory) -> dict:
    """A vault password file, and an extra-vars file whose database and admin passwords are vaulted: the
    database's is the scenario's own (the run must decrypt it to connect), the admin's a new value
    (the admin exists already and is never modified, so it changes nothing)."""
    directory = tmp_path_factory.mktemp("vault")
    password_file = directory / "vault-password"
    password_file.write_text(secrets.token_urlsafe(24) + "\n")
    password_file.chmod(0o600)
    scenario = _scenario_vars()
    admin_password = "vaulted-admin-password-" + secrets.token_hex(8)
    text = "app_db_password: !vault |\n"
    text += "".join(f"  {line}\n" for line in _vaulted(scenario["app_db_password"], password_file))
    text += f"app_admin:\n  username: {scenario['app_admin']['username']}\n  email: {scenario['app_admin']['email']}\n"
    text += "  password: !vault |\n" + "".join(f"    {line}\n" for line in _vaulted(admin_password, password_file))
    vars_file = directory / "vault.yml"
    vars_file.write_text(text)
    secret_values = {
        "app_db_password": scenario["app_db_password"],
        "app_admin.password": scenario["app_admin"]["password"],
        "app_secret_key": scenario["app_secret_key"],
        "the vaulted admin password": admin_password,
    }
    args = ["--extra-vars", f"@{vars_file}", "--vault-password-file", str(password_file)]
    return {"args": args, "secrets": secret_values}


@pytest.fixture(scope="module")
def runs(run_playbook, vault) -> dict:
    """The runs 1-3, in order, then every secret value to look for (the generated keys exist by then)."""
    results = {"site": run_playbook(SITE, {"django_secret_key": ""}, args=[*VERBOSE, *vault["args"]])}
    results["deploy --check"] = run_playbook(DEPLOY, args=[*VERBOSE, "--check", *vault["args"]])
    results["deploy"] = run_playbook(DEPLOY, args=[*VERBOSE, *vault["args"]])
    return {"results": results, "secrets": {**vault["secrets"], **_generated_keys()}}


def assert_no_secret(out: str, secret_values: dict[str, str]) -> None:
    for name, value in secret_values.items():
        assert value, f"{name} is empty: nothing to look for"
        # As it is, and percent-encoded as DATABASE_URL carries a password.
        for form in {value, quote(value, safe="")}:
            assert form not in out, f"{name} was printed"
    # What a diff or a dump of the environment file would show, whatever the values.
    assert not re.search(r"^[-+ ]?(SECRET_KEY|DATABASE_URL)=", out, re.MULTILINE), "a line of the environment file"


@pytest.mark.parametrize("run", ["site", "deploy --check", "deploy"])
def test_a_run_at_vvv_with_diff_prints_no_secret(runs, run):
    out = runs["results"][run].stdout
    assert runs["results"][run].returncode == 0, out[-3000:]
    assert_no_secret(out, runs["secrets"])
    # The argument specs were checked and said so at -vvv (they name secret inputs with no_log).
    assert "Validating arguments against arg spec" in out
    assert "The arg spec validation passed" in out


@pytest.mark.parametrize("run", ["site", "deploy --check", "deploy"])
def test_the_environment_file_changed_with_its_diff_hidden(runs, run):
    """Each run changed (or in check mode would change) the SECRET_KEY in the environment file, with
    --diff asked for: the change is reported on every host, the diff is not shown."""
    out = runs["results"][run].stdout
    changed = changed_tasks(out)
    for name in instances():
        assert ENV_TASK in changed.get(name, []), f"{name}: {changed.get(name)}"
    assert f"--- before: /etc/{APP}/env" not in out


def test_a_deploy_key_given_as_extra_variable_is_refused_without_printing_it(run_playbook, vault):
    result = run_playbook(DEPLOY, {"app_deploy_key": DEPLOY_KEY}, args=["-vvv", *vault["args"]])
    out = result.stdout
    assert result.returncode != 0, out[-3000:]
    # A refused input: a failed task, or a failed item of a check task.
    assert re.search(r"^(fatal|failed): ", out, re.MULTILINE), out[-3000:]
    # The refusal names the variable (its message, not just a task's name).
    assert re.search(r'"msg": "app_(code_)?deploy_key ', out), out[-3000:]
    assert_no_secret(out, {**vault["secrets"], "the deploy key": DEPLOY_KEY_BODY})
