"""The site's wiring (playbooks/vars/site.yml) hands app_* to the roles, and the inventory wins.

An operator who sets a wired role input (gunicorn_bind, postgresql_listen_addresses ...) in the
inventory, in group_vars/all too, must get that value, not the wiring's. These tests render the
wiring for a db / app x 2 / web inventory with ansible-playbook on the control machine (no hosts are
contacted: the play only writes the rendered inputs to files).
"""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WIRING = ROOT / "playbooks" / "vars" / "site.yml"
SHOWN = [
    "gunicorn_bind",
    "postgresql_listen_addresses",
    "postgresql_hba_extra_entries",
    "nginx_upstream_servers",
    "nginx_server_names",
    "django_allowed_hosts",
    "django_database_host",
    "django_wsgi_application",
    "gunicorn_forwarded_allow_ips",
    "firewall_allow",
    "shared_files_server",
    "shared_files_server_address",
    "shared_files_clients",
    "shared_files_read_only_clients",
]

HOSTS = {
    "all": {
        "children": {
            "dbservers": {"hosts": {"db1": {"ansible_host": "10.0.0.5"}}},
            "appservers": {"hosts": {"app1": {"ansible_host": "10.0.0.11"}, "app2": {"ansible_host": "10.0.0.12"}}},
            "webservers": {"hosts": {"web1": {"ansible_host": "10.0.0.2"}}},
        },
        # Local stand-ins: every check runs, and no record of the checked inputs is written on this machine.
        "vars": {"ansible_connection": "local", "app_check_inputs": "always"},
    }
}

PROJECT = {
    "app_name": "shop",
    "app_domains": ["shop.example.org"],
    "app_repo": "https://git.example.org/shop.git",
    "app_settings_module": "shop.settings",
    "app_db_password": "not-a-secret",
    "app_tcp_port": 8000,
    "app_db_listen_addresses": ["10.0.0.5"],
}

PLAY = """
- name: Render the wired role inputs
  hosts: all
  gather_facts: false
  vars_files:
    - {wiring}
  tasks:{noted}
    - name: Write them to a file per host
      ansible.builtin.copy:
        content: "{{{{ dict(shown | zip(shown | map('extract', vars))) | to_json }}}}"
        dest: "{{{{ out }}}}/{{{{ inventory_hostname }}}}.json"
        mode: "0644"
      vars:
        shown: {shown}
      delegate_to: localhost
"""


def render(
    tmp_path: Path,
    group_vars_all: dict,
    host_vars: dict | None = None,
    extra: dict | None = None,
    hosts: dict | None = None,
    noted: bool = True,
) -> dict:
    inventory = tmp_path / "inventory"
    (inventory / "group_vars" / "all").mkdir(parents=True)
    (inventory / "hosts.yml").write_text(yaml.safe_dump(hosts or HOSTS))
    (inventory / "group_vars" / "all" / "main.yml").write_text(yaml.safe_dump({**PROJECT, **group_vars_all}))
    for host, values in (host_vars or {}).items():
        (inventory / "host_vars").mkdir(exist_ok=True)
        (inventory / "host_vars" / f"{host}.yml").write_text(yaml.safe_dump(values))
    playbook = tmp_path / "render.yml"
    # As preflight.yml does (noted): the names hostvars holds, noted once; else read from hostvars each time.
    names_file = ROOT / "playbooks" / "tasks" / "inventory-names.yml"
    names = f"\n    - ansible.builtin.import_tasks: {names_file}" if noted else ""
    playbook.write_text(PLAY.format(wiring=WIRING, shown=json.dumps(SHOWN), noted=names))
    out = tmp_path / "out"
    out.mkdir()
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    # The demo's inventory is the default in ansible.cfg; -i replaces it.
    cmd = [
        "ansible-playbook",
        "-i",
        str(inventory),
        str(playbook),
        "-e",
        json.dumps({"out": str(out), **(extra or {})}),
    ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return {p.stem: json.loads(p.read_text()) for p in out.glob("*.json")}


def test_wiring_derives_the_split_from_app_settings(tmp_path: Path) -> None:
    wired = render(tmp_path, {})
    assert wired["app1"]["gunicorn_bind"] == "0.0.0.0:8000"
    assert wired["web1"]["nginx_upstream_servers"] == ["10.0.0.11:8000", "10.0.0.12:8000"]
    assert wired["db1"]["postgresql_listen_addresses"] == ["localhost", "10.0.0.5"]
    addresses = [entry["address"] for entry in wired["db1"]["postgresql_hba_extra_entries"]]
    assert addresses == ["10.0.0.11/32", "10.0.0.12/32"]
    assert wired["app1"]["django_database_host"] == "10.0.0.5"
    assert wired["app1"]["django_allowed_hosts"] == ["shop.example.org"]
    assert wired["app1"]["django_wsgi_application"] == "shop.wsgi:application"


@pytest.mark.parametrize("noted", [True, False], ids=["names noted", "names not noted"])
def test_inventory_group_vars_all_wins_over_the_wiring(tmp_path: Path, noted: bool) -> None:
    wired = render(
        tmp_path,
        {
            "gunicorn_bind": "10.9.9.9:9000",
            "postgresql_listen_addresses": ["localhost", "192.0.2.1"],
            "nginx_upstream_servers": ["192.0.2.50:9000"],
            "django_allowed_hosts": ["only.example.org"],
        },
        noted=noted,
    )
    assert wired["app2"]["gunicorn_bind"] == "10.9.9.9:9000"
    assert wired["db1"]["postgresql_listen_addresses"] == ["localhost", "192.0.2.1"]
    assert wired["web1"]["nginx_upstream_servers"] == ["192.0.2.50:9000"]
    assert wired["app1"]["django_allowed_hosts"] == ["only.example.org"]


def test_wiring_derives_the_splits_boundaries_from_the_groups(tmp_path: Path) -> None:
    wired = render(tmp_path, {"app_db_listen_addresses": []}, host_vars={"app2": {"app_private_address": "10.1.0.12"}})
    # The health check (127.0.0.1) and the web host may send X-Forwarded-Proto; nobody else.
    assert wired["app1"]["gunicorn_forwarded_allow_ips"] == "127.0.0.1,::1,10.0.0.2"
    # PostgreSQL listens on its own address when app hosts are elsewhere, and lets them in by their addresses.
    assert wired["db1"]["postgresql_listen_addresses"] == ["localhost", "10.0.0.5"]
    assert [e["address"] for e in wired["db1"]["postgresql_hba_extra_entries"]] == ["10.0.0.11/32", "10.1.0.12/32"]
    assert wired["web1"]["nginx_upstream_servers"] == ["10.0.0.11:8000", "10.1.0.12:8000"]
    # The firewall: each tier takes what the tier in front of it sends.
    assert wired["web1"]["firewall_allow"] == [
        {"name": "http", "port": 80, "sources": []},
        {"name": "https", "port": 443, "sources": []},
    ]
    assert wired["app1"]["firewall_allow"] == [{"name": "gunicorn", "port": 8000, "sources": ["10.0.0.2"]}]
    assert wired["db1"]["firewall_allow"] == [
        {"name": "postgresql", "port": 5432, "sources": ["10.0.0.11", "10.1.0.12"]}
    ]
    # Uploads and static files live on the web host; the app hosts mount them.
    assert wired["app1"]["shared_files_server"] == "web1"
    assert wired["app1"]["shared_files_server_address"] == "10.0.0.2"
    assert wired["app1"]["shared_files_clients"] == ["app1", "app2"]
    assert wired["app1"]["shared_files_read_only_clients"] == []


def test_a_single_host_opens_http_and_https_only_and_shares_nothing(tmp_path: Path) -> None:
    one = {
        "all": {"hosts": {"one": {"ansible_host": "10.0.0.9"}}, "children": {}, "vars": {"ansible_connection": "local"}}
    }
    one["all"]["children"] = {group: {"hosts": {"one": {}}} for group in ("dbservers", "appservers", "webservers")}
    wired = render(tmp_path, {"app_tcp_port": 0, "app_db_listen_addresses": []}, hosts=one)
    assert wired["one"]["firewall_allow"] == [
        {"name": "http", "port": 80, "sources": []},
        {"name": "https", "port": 443, "sources": []},
    ]
    assert wired["one"]["postgresql_listen_addresses"] == ["localhost"]
    assert wired["one"]["shared_files_clients"] == []


@pytest.mark.parametrize("noted", [True, False], ids=["names noted", "names not noted"])
def test_host_vars_and_extra_vars_win_over_the_wiring(tmp_path: Path, noted: bool) -> None:
    wired = render(
        tmp_path,
        {"app_wsgi_application": "shop.asgi_wsgi:app"},
        host_vars={"app2": {"gunicorn_bind": "127.0.0.1:8001"}},
        extra={"nginx_server_names": ["extra.example.org"]},
        noted=noted,
    )
    assert wired["app1"]["gunicorn_bind"] == "0.0.0.0:8000"
    assert wired["app2"]["gunicorn_bind"] == "127.0.0.1:8001"
    assert wired["web1"]["nginx_server_names"] == ["extra.example.org"]
    # app_wsgi_application reaches the django role's import check as well as Gunicorn.
    assert wired["app1"]["django_wsgi_application"] == "shop.asgi_wsgi:app"


def test_every_wired_input_reads_the_inventory_first() -> None:
    wiring = yaml.safe_load(WIRING.read_text())
    inputs = [key for key in wiring if not key.startswith("__")]
    assert inputs, "the wiring hands no input to any role"
    ignored = [
        key
        for key in inputs
        if not re.search(rf"hostvars\[inventory_hostname\]\.{key}\b", str(wiring[key]))
        or f"'{key}' in __site_inventory_set" not in str(wiring[key])
    ]
    assert ignored == [], f"these wired inputs would override the inventory's value: {ignored}"
    # Each reads hostvars only when the inventory sets it: no lookup of it that every render makes.
    unconditional = re.findall(r"hostvars\[inventory_hostname\]\.(\w+) \| default", WIRING.read_text())
    assert set(unconditional) & set(inputs) == set()
    assert "__site_inventory:" not in WIRING.read_text()


@pytest.mark.parametrize("place", [ROOT, ROOT / "playbooks"])
def test_no_playbook_group_vars_override_the_inventory(place: Path) -> None:
    # group_vars beside a playbook take precedence over the inventory's group_vars/all.
    assert not (place / "group_vars").exists()
    assert not (place / "group_vars").is_symlink()


def test_readme_documents_every_app_setting_the_playbooks_read() -> None:
    read = set()
    for playbook in (ROOT / "playbooks").rglob("*.yml"):
        read |= set(re.findall(r"\bapp_(?!code\b|code_)[a-z_]+\b", playbook.read_text()))
    readme = (ROOT / "README.md").read_text()
    undocumented = sorted(name for name in read if f"`{name}`" not in readme)
    assert undocumented == [], f"README.md's variable table lacks {undocumented}"
