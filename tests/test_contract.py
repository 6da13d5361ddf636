"""The site's input contract (roles/app): one source for the app_* settings, in agreement with the
wiring, and its cross-host rules proven on a db / app x 2 / web inventory.

The preflight play runs here against local stand-ins for the hosts (ansible_connection: local): it
changes nothing, and its few host reads (locales, a CA bundle) are harmless on the control machine.
The per-input battery against real hosts is molecule/site/tests/test_contract.py."""

import ast
import copy
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import test_wiring as wiring
import yaml

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = yaml.safe_load((ROOT / "roles" / "app" / "meta" / "argument_specs.yml").read_text())["argument_specs"][
    "main"
]["options"]
PLAYBOOK_FILES = sorted((ROOT / "playbooks").rglob("*.yml"))
# Its tasks and vars, not its defaults or spec: those name every setting.
APP_ROLE_FILES = [path for part in ("tasks", "vars") for path in sorted((ROOT / "roles" / "app" / part).glob("*.yml"))]
# The facts app_code publishes (its README's table): the playbooks read them, they are no inputs.
APP_CODE_FACTS = set(
    re.findall(
        r"^\| `(app_code_[a-z_]+)` \|",
        (ROOT / "roles" / "app_code" / "README.md").read_text().split("## Facts it publishes")[1].split("\n## ")[0],
        re.M,
    )
)
SECRET_KEY = "contract-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"

# The db / app x 2 / web inventory of test_wiring.py, on local stand-ins.
HOSTS = copy.deepcopy(wiring.HOSTS)
HOSTS["all"]["vars"].update({"ansible_become": False, "ansible_python_interpreter": "{{ ansible_playbook_python }}"})
SPLIT = {
    "app_name": "shop",
    "app_domains": ["shop.example.org"],
    "app_repo": "https://git.example.org/shop.git",
    "app_settings_module": "shop.settings",
    "app_db_password": "split-db-password-7788",
    "app_tcp_port": 8000,
    "app_db_listen_addresses": ["10.0.0.5"],
    "app_secret_key": SECRET_KEY,
}


def _literal(text: str):
    text = text.strip()
    return ast.literal_eval(re.sub(r"\b(true|false)\b", lambda m: m.group(1).title(), text))


def wiring_defaults() -> dict[str, list]:
    """Each app_* setting's literal fallbacks in the playbooks: `app_x | default(<literal>[, true])`."""
    found: dict[str, list] = {}
    for path in PLAYBOOK_FILES:
        for name, arg in re.findall(r"\b(app_[a-z_]+) \| default\(((?:[^()]|\(\))*)\)", path.read_text()):
            arg = re.sub(r",\s*true$", "", arg.strip())
            try:
                value = _literal(arg)
            except (ValueError, SyntaxError):
                continue  # a derived default (app_name, another setting): documented in the spec's text
            if name not in APP_CODE_FACTS:
                found.setdefault(name, []).append(value)
    return found


def test_wiring_fallbacks_agree_with_the_contract() -> None:
    found = wiring_defaults()
    assert len(found) >= 15, found
    disagree = {
        name: (values, CONTRACT.get(name, {}).get("default"))
        for name, values in found.items()
        if any(v != CONTRACT.get(name, {}).get("default") for v in values)
    }
    assert disagree == {}


def test_every_app_setting_the_playbooks_read_is_in_the_contract() -> None:
    read = set()
    # The preflight's own settings (app_check_inputs) are read by the contract's role, which the playbooks run.
    for path in PLAYBOOK_FILES + APP_ROLE_FILES:
        read |= set(re.findall(r"\bapp_(?!code\b)[a-z_]*[a-z]\b", path.read_text()))
    assert len(APP_CODE_FACTS) >= 5, APP_CODE_FACTS
    read -= APP_CODE_FACTS
    assert sorted(set(CONTRACT) - read) == [], "settings the contract documents but no playbook reads"
    # app_code's own inputs (app_code_*) are documented by that role's spec.
    app_code = yaml.safe_load((ROOT / "roles" / "app_code" / "meta" / "argument_specs.yml").read_text())
    read -= {name for entry in app_code["argument_specs"].values() for name in entry.get("options") or {}}
    assert sorted(read - set(CONTRACT)) == []


def test_the_contract_marks_every_secret_no_log() -> None:
    secrets = {name for name, spec in CONTRACT.items() if spec.get("no_log")}
    assert secrets == {
        "app_deploy_key",
        "app_db_password",
        "app_secret_key",
        "app_backup_password",
        "app_backup_sftp_key",
        "app_backup_environment",
    }
    assert CONTRACT["app_admin"]["options"]["password"]["no_log"] is True


def preflight(
    tmp_path: Path, settings: dict, playbook: Path | None = None, host_vars: dict | None = None
) -> subprocess.CompletedProcess:
    """playbooks/preflight.yml (or `playbook`) against the split's local stand-ins, `settings` in
    group_vars/all and `host_vars` ({host: {name: value}}) in host_vars/."""
    inventory = tmp_path / "inventory"
    (inventory / "group_vars" / "all").mkdir(parents=True)
    (inventory / "hosts.yml").write_text(yaml.safe_dump(HOSTS))
    (inventory / "group_vars" / "all" / "main.yml").write_text(yaml.safe_dump(settings))
    for host, values in (host_vars or {}).items():
        (inventory / "host_vars").mkdir(exist_ok=True)
        (inventory / "host_vars" / f"{host}.yml").write_text(yaml.safe_dump(values))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    cmd = ["ansible-playbook", "-i", str(inventory), str(playbook or ROOT / "playbooks" / "preflight.yml")]
    return subprocess.run(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False, timeout=300
    )


def test_a_correct_split_passes_the_contract(tmp_path: Path) -> None:
    done = preflight(tmp_path, SPLIT)
    assert done.returncode == 0, done.stdout[-3000:]
    assert re.search(r"web1\s+: ok=\d+\s+changed=0\s+unreachable=0\s+failed=0", done.stdout), done.stdout[-2000:]


@pytest.mark.parametrize(
    ("removed", "changed", "variable", "rule"),
    [
        ("app_secret_key", {}, "app_secret_key", "several app hosts (2 in appservers)"),
        ("app_tcp_port", {}, "app_tcp_port", "web host is not an app host (web1)"),
        (None, {"app_files_host": "db1"}, "app_files_host", "app or web host"),
        (None, {"app_db_engine": "sqlite"}, "app_db_engine", "2 appservers"),
        (None, {"gunicorn_bind": "unix:/run/shop/gunicorn.sock", "app_tcp_port": 70000}, "app_tcp_port", "65535"),
    ],
)
def test_a_split_missing_what_it_needs_is_refused_on_every_host(tmp_path, removed, changed, variable, rule) -> None:
    settings = {k: v for k, v in SPLIT.items() if k != removed} | changed
    done = preflight(tmp_path, settings)
    assert done.returncode != 0, done.stdout[-3000:]
    failed = [line for line in done.stdout.splitlines() if line.startswith(("fatal:", "failed:"))]
    assert any(variable in line and rule in line for line in failed), "\n".join(failed)[-3000:]
    assert "split-db-password-7788" not in done.stdout
    assert SECRET_KEY not in done.stdout


@pytest.mark.parametrize("inventory", ["example/hosts.yml", "example/hosts-split.yml", "demo/hosts.yml"])
def test_the_bundled_inventories_pass_the_contract(tmp_path: Path, inventory: str) -> None:
    """The inventories the README tells users to copy, with local stand-ins for their hosts."""
    source = ROOT / "inventory" / inventory
    copy = tmp_path / source.parent.name
    shutil.copytree(source.parent, copy)
    hosts = yaml.safe_load((copy / source.name).read_text())
    hosts["all"].setdefault("vars", {}).update(HOSTS["all"]["vars"])
    for group in (copy / "host_vars").glob("*.yml") if (copy / "host_vars").is_dir() else []:
        values = yaml.safe_load(group.read_text())
        group.write_text(yaml.safe_dump({k: v for k, v in values.items() if not k.startswith("ansible_")}))
    (copy / source.name).write_text(yaml.safe_dump(hosts))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    cmd = ["ansible-playbook", "-i", str(copy / source.name), str(ROOT / "playbooks" / "preflight.yml")]
    done = subprocess.run(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False, timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:]


def test_more_connections_than_postgresql_allows_are_refused(tmp_path: Path) -> None:
    """2 app hosts x 30 workers x 2 threads, twice during a reload: far above max_connections 100."""
    done = preflight(
        tmp_path, SPLIT | {"gunicorn_workers": 30, "gunicorn_threads": 2, "gunicorn_worker_class": "gthread"}
    )
    assert done.returncode != 0, done.stdout[-3000:]
    failed = [line for line in done.stdout.splitlines() if line.startswith(("fatal:", "failed:"))]
    assert any("may open 247 database connections" in line for line in failed), "\n".join(failed)[-3000:]
    assert any("postgresql_max_connections is 100" in line and "gunicorn_workers" in line for line in failed)

    raised = preflight(
        tmp_path / "raised",
        SPLIT
        | {
            "gunicorn_workers": 30,
            "gunicorn_threads": 2,
            "gunicorn_worker_class": "gthread",
            "postgresql_max_connections": 300,
        },
    )
    assert raised.returncode == 0, raised.stdout[-3000:]


def test_the_connection_budget_counts_gunicorns_automatic_workers_from_the_cpus(tmp_path: Path) -> None:
    """Without gunicorn_workers, each app host runs 2 x CPUs + 1 workers (Gunicorn's own rule, the CPUs from
    the facts the preflight gathered): the stand-ins are this machine."""
    workers = 2 * len(os.sched_getaffinity(0)) + 1
    done = preflight(tmp_path, SPLIT | {"postgresql_max_connections": 10})
    assert done.returncode != 0, done.stdout[-3000:]
    failed = " ".join(line for line in done.stdout.splitlines() if line.startswith(("fatal:", "failed:")))
    assert f"may open {2 * (2 * workers + 2) + 3} database connections" in failed, failed[-3000:]
    assert f"app1: {workers} workers x 1 threads; app2: {workers} workers x 1 threads" in failed, failed[-3000:]


# The preflight play, then a play with the app tier's own `serial` and vars_files that records its batches.
BATCHES = """
- name: The preflight play
  ansible.builtin.import_playbook: {root}/playbooks/preflight.yml

- name: A play with the serial of {tier}
  hosts: appservers
  gather_facts: false
  vars_files:
    - {root}/playbooks/vars/site.yml
  serial: {serial}
  tasks:
    - name: Show the batch
      ansible.builtin.debug:
        msg: "batch {{{{ ansible_play_batch | join(',') }}}}"
      run_once: true
"""


@pytest.mark.parametrize("tier", ["app.yml", "rollback.yml"])
@pytest.mark.parametrize(
    ("serial", "batches"), [(1, ["app1", "app2"]), ("50%", ["app1", "app2"]), (None, ["app1,app2"])]
)
def test_app_deploy_serial_from_the_inventory_sets_the_batches(tmp_path: Path, tier, serial, batches) -> None:
    """app_deploy_serial in the inventory's group_vars (not -e) makes the app tier's batches."""
    plays = yaml.safe_load((ROOT / "playbooks" / tier).read_text())
    app_play = next(play for play in plays if play.get("hosts") == "appservers")
    playbook = tmp_path / "batches.yml"
    playbook.write_text(BATCHES.format(root=ROOT, tier=tier, serial=yaml.safe_dump(app_play["serial"]).strip()))
    settings = SPLIT | ({} if serial is None else {"app_deploy_serial": serial})
    done = preflight(tmp_path, settings, playbook=playbook)
    assert done.returncode == 0, done.stdout[-3000:]
    assert re.findall(r'"msg": "batch ([^"]+)"', done.stdout) == batches, done.stdout[-3000:]


def test_app_hosts_with_different_batch_sizes_are_refused(tmp_path: Path) -> None:
    done = preflight(tmp_path, SPLIT, host_vars={"app1": {"app_deploy_serial": 1}, "app2": {"app_deploy_serial": 2}})
    assert done.returncode != 0, done.stdout[-3000:]
    failed = [line for line in done.stdout.splitlines() if line.startswith(("fatal:", "failed:"))]
    assert any("app_deploy_serial differs between the app hosts (1, 2)" in line for line in failed), "\n".join(failed)
