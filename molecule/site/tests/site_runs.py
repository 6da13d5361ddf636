"""What the site scenario's tests share: its instances, a shell script run in each of them, and the
reading of an ansible-playbook run's output (the recap, the tasks that changed something)."""

import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor

import yaml


def instances() -> list[str]:
    """The scenario's container names, as in Molecule's inventory."""
    with open(os.environ["MOLECULE_INVENTORY_FILE"], encoding="utf-8") as stream:
        return sorted((yaml.safe_load(stream)["all"].get("hosts") or {}).keys())


def sh(name: str, script: str) -> str:
    """`script` run by bash in the container `name` (podman exec); its stdout (a failure raises)."""
    return subprocess.run(
        ["podman", "exec", name, "bash", "-c", script], capture_output=True, text=True, check=True
    ).stdout


def sh_each(script: str) -> dict[str, str]:
    """`script` run in every instance at once: {name: stdout}."""
    names = instances()
    with ThreadPoolExecutor(len(names)) as pool:
        return dict(zip(names, pool.map(lambda name: sh(name, script), names), strict=True))


def recap(out: str) -> dict[str, dict[str, int]]:
    """The PLAY RECAP's counters per host."""
    counters = re.findall(r"^(\S+)\s+: ((?:\w+=\d+\s*)+)$", out.partition("PLAY RECAP")[2], re.MULTILINE)
    return {host: {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counts)} for host, counts in counters}


def changed_tasks(out: str) -> dict[str, list[str]]:
    """{host: [the title of every task or handler that reported a change on it]}."""
    changed: dict[str, list[str]] = {}
    title = ""
    for line in out.splitlines():
        if match := re.match(r"^(?:TASK|RUNNING HANDLER) \[(.*)\] \**$", line):
            title = match.group(1)
        elif match := re.match(r"^changed: \[([^\]]+)\]", line):
            changed.setdefault(match.group(1), []).append(title)
    return changed


def warnings(out: str) -> list[str]:
    """The warnings a run printed (ansible-core's [WARNING] and [DEPRECATION WARNING] lines): what an
    operator would have to read and decide about on every run."""
    return [line for line in out.splitlines() if line.startswith(("[WARNING]", "[DEPRECATION WARNING]"))]
