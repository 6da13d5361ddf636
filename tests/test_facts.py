"""The roles and playbooks read facts only under ansible_facts.

ansible.cfg and the scenarios' configuration set inject_facts_as_vars to false: every variable lookup of a
task is cheaper without the ansible_* copies of the facts, and ansible-core deprecates them. A role lifted
into a playbook that keeps them works the same, since ansible_facts is there in both. A reference to an
injected fact (ansible_local, ansible_distribution ...) would be undefined under this configuration.
"""

import configparser
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
# Names the setup module returns as top-level ansible_* variables when they are injected. Connection and
# magic variables (ansible_host, ansible_check_mode, ansible_python_interpreter ...) are not facts.
INJECTED = re.compile(
    r"(?<![\w.'\"])ansible_(local|distribution\w*|os_family|processor\w*|default_ipv[46]|all_ipv[46]_addresses|hostname|fqdn"
    r"|nodename|domain|memtotal_mb|memory_mb|architecture|machine|kernel\w*|service_mgr|pkg_mgr|date_time|env"
    r"|mounts|interfaces|lsb|virtualization_\w+|python|python_version|user_id|dns|system|selinux|apparmor"
    r"|cmdline|devices|fips|uptime_seconds|eth\d+|lo)\b"
)
SOURCES = ["roles", "playbooks", "site.yml", "inventory"]


def sources() -> list[Path]:
    found = []
    for name in SOURCES:
        path = ROOT / name
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found += [p for p in path.rglob("*") if p.suffix in {".yml", ".yaml", ".j2"} and p.is_file()]
    return sorted(found)


def test_no_role_or_playbook_reads_an_injected_fact():
    files = sources()
    assert any(f.match("roles/*/vars/main.yml") for f in files)
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if INJECTED.search(line)
    ]
    assert found == [], "read these under ansible_facts (ansible_facts.ansible_local ...):\n" + "\n".join(found)


def test_the_pattern_finds_injected_facts_and_leaves_other_variables():
    assert INJECTED.search("{{ ansible_local.djangoops_x }}")
    assert INJECTED.search("when: ansible_distribution_release == 'bookworm'")
    for name in [
        "ansible_host",
        "ansible_python_interpreter",
        "ansible_check_mode",
        "ansible_facts.distribution",
        "ansible_ssh_common_args",
        "ansible_failed_result",
        "ansible_managed",
    ]:
        assert not INJECTED.search(name), name
    assert not INJECTED.search("{{ (ansible_facts.ansible_local | default({}))['x'] }}")


def test_the_project_and_the_scenarios_do_not_inject_facts():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "ansible.cfg")
    assert cfg.getboolean("defaults", "inject_facts_as_vars") is False
    molecule = yaml.safe_load((ROOT / ".config" / "molecule" / "config.yml").read_text(encoding="utf-8"))
    assert molecule["ansible"]["cfg"]["defaults"]["inject_facts_as_vars"] is False
