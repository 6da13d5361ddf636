"""What the scenario's tests share: where the venvs are, how the app user sees them, runs of apply.yml."""

import re

ROOT = "/srv/app/venvs"
RELEASES = "/srv/app/releases"
UV_VERSION = "0.13.9"

# Two scenarios at a time on two cores: becoming the virtualenv's owner (sudo) took over Ansible's
# default 10 s connection timeout in CI ("Timeout (12s) waiting for privilege escalation prompt").
SLOW_MACHINE = {"ANSIBLE_TIMEOUT": "30"}


def venv_of(host, release: str) -> str:
    return host.check_output(f"readlink -e {RELEASES}/{release}/.venv")


def venv_import(host, release: str, module: str) -> str:
    """The version of `module` as the release's venv python imports it, run as the app user."""
    code = f"import {module}, sys; print({module}.__version__, sys.prefix)"
    return host.check_output(f"sudo -u app {RELEASES}/{release}/.venv/bin/python -c '{code}'")


def venv_listing(host) -> str:
    return host.check_output(f"ls -A {ROOT}")


def recap_changed(output: str) -> int:
    return sum(int(n) for n in re.findall(r"changed=(\d+)", output))


def apply(host, run_playbook, args: list[str] | None = None, **inputs):
    """Apply the role to the scenario's host with these inputs (python_venv_app_name is app)."""
    extra_vars = {"python_venv_app_name": "app"} | inputs
    return run_playbook("apply.yml", extra_vars, limit=host.backend.name, args=args, env=SLOW_MACHINE)


def failed_build(host, run_playbook, release: str, **inputs):
    """Run a build that must fail; check that it left nothing behind and r1's venv still works."""
    before = venv_listing(host)
    inputs = {
        "python_venv_requirements_file": f"{RELEASES}/{release}/requirements.txt",
        "python_venv_link": f"{RELEASES}/{release}/.venv",
    } | inputs
    result = apply(host, run_playbook, **inputs)
    assert result.returncode != 0, result.stdout
    # On failure, show the run's errors (the fatal lines), not only its first lines.
    errors = "\n".join(line for line in result.stdout.splitlines() if "fatal:" in line or "ERROR" in line)
    assert "the incomplete virtualenv was removed" in result.stdout, errors or result.stdout[-4000:]
    assert venv_listing(host) == before
    assert not host.file(f"{RELEASES}/{release}/.venv").exists
    assert venv_import(host, "r1", "six").split()[0] == "1.16.0"
    return result.stdout
