#!/usr/bin/env python3
"""`make bench`: each playbook against its floor, the served site against Gunicorn alone; prints a table.

    tools/bench.py            one run (about 10 minutes on 2 idle cores), then a markdown table on stdout

Two fresh containers of localhost/djangoops-debian12: `bench-site`, provisioned by site.yml over SSH
(tools/ssh-proxy, pipelining, ControlPersist, like the Molecule scenarios and the demo), and
`bench-script`, where tools/bench.floor.sh does the same work as a plain script (the floor). Each
figure stands beside its floor and the ratio figure / floor: for times 1.0 means "no overhead", for
requests per second 1.0 means "the proxy costs nothing". The logs of every run (with per-task times from
profile_tasks) are kept in ~/.cache/djangoops/bench/. The containers are removed at the end.

This file also runs inside bench-site (`python3 - load|memory ...` on stdin) for the request loops and
the memory figures, so it uses the standard library only, as Debian 12's python3 has it.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("DJANGOOPS_CACHE", Path.home() / ".cache" / "djangoops"))
IMAGE = "localhost/djangoops-debian12:latest"
SITE = "bench-site"
SCRIPT = "bench-script"
# Ansible's own floor: tools/bench.lean.yml, the plain script's steps as plain module tasks.
LEAN = "bench-lean"
# The split of the cluster scenario (db / app x 2 / web), the same settings as bench-site, on a network of its own.
CLUSTER = {"bench-db1": "dbservers", "bench-app1": "appservers", "bench-app2": "appservers", "bench-web1": "webservers"}
NETWORK = "djangoops-bench"
APP = "notes"
DOMAIN = "localhost"
# The bare repository of this project's committed main, as both containers see it.
REPO_IN_CONTAINER = "/srv/git/bench.git"
SOCKET = f"/run/{APP}/gunicorn.sock"
# Request loops: fixed counts, from inside bench-site to loopback.
CONCURRENCY = 4
PAGE_REQUESTS = 600
# ... in alternating rounds (nginx, Gunicorn, nginx, ...), so that both see the same background load.
PAGE_ROUNDS = 3
STATIC_REQUESTS = 3000
# Short plays are timed this many times (the median is shown).
FACTS_REPEAT = 3
SLOWEST_TASKS = 8

FACTS_PLAY = """\
---
- name: Facts only (the floor of a no-op run)
  hosts: all
  become: true
  gather_facts: true
  tasks: []
"""

RECAP = re.compile(
    r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)",
    re.MULTILINE,
)
# profile_tasks: "<role> : <task> ------------ 12.34s"
PROFILE_LINE = re.compile(r"^(?P<task>\S.*?) -{3,} (?P<seconds>\d+\.\d+)s$", re.MULTILINE)


class BenchError(Exception):
    """A step failed: the message says which, and where its log is."""


@dataclass
class Run:
    """One timed playbook run."""

    seconds: float
    recap: dict[str, int] = field(default_factory=dict)
    tasks: list[tuple[str, float]] = field(default_factory=list)


@dataclass
class Row:
    """One line of the table."""

    label: str
    figure: float | None
    floor: float | None
    unit: str
    notes: str = ""


# ---------------------------------------------------------------------------------------------------
# Inside the container: request loops and memory (run by `python3 - load|memory ...`).


class _UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over a unix socket (Gunicorn's); reconnects after each `Connection: close`."""

    def __init__(self, path: str, host: str) -> None:
        super().__init__(host, timeout=30)
        self.unix_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.unix_path)
        self.sock = sock


class _LoopbackHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to 127.0.0.1:443 with the site's name as SNI (no certificate check: self-signed)."""

    def __init__(self, host: str, context: ssl.SSLContext) -> None:
        super().__init__(host, 443, timeout=30, context=context)
        self.tls_context = context

    def connect(self) -> None:
        sock = socket.create_connection(("127.0.0.1", self.port), self.timeout)
        self.sock = self.tls_context.wrap_socket(sock, server_hostname=self.host)


def _connection(target: str) -> http.client.HTTPConnection:
    if target.startswith("unix:"):
        return _UnixHTTPConnection(target[len("unix:") :], DOMAIN)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return _LoopbackHTTPSConnection(DOMAIN, context)


def _headers(target: str) -> dict[str, str]:
    # Straight to Gunicorn, the request says what nginx would (else Django redirects to HTTPS).
    return {"Host": DOMAIN, "X-Forwarded-Proto": "https"} if target.startswith("unix:") else {"Host": DOMAIN}


def _get(conn: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def load(target: str, path: str, requests: int, concurrency: int) -> dict[str, float]:
    """GET path `requests` times over `concurrency` connections (one thread each); 200 is success."""
    headers = _headers(target)
    if path == "static":
        # The stylesheet the home page links to (a hashed name from collectstatic).
        _, body = _get(_connection(target), "/", headers)
        found = re.search(r'/static/[^"]+\.css', body.decode())
        if not found:
            raise SystemExit("no stylesheet linked from /")
        path = found.group(0)
    errors = 0
    lock = threading.Lock()

    def worker(count: int) -> None:
        nonlocal errors
        conn = _connection(target)
        failed = 0
        for _ in range(count):
            try:
                status, _ = _get(conn, path, headers)
            except (OSError, http.client.HTTPException):
                status = 0
                conn.close()
            failed += status != 200
        conn.close()
        with lock:
            errors += failed

    def run(total: int) -> float:
        shares = [total // concurrency + (i < total % concurrency) for i in range(concurrency)]
        threads = [threading.Thread(target=worker, args=(share,)) for share in shares]
        start = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.monotonic() - start

    run(concurrency * 10)  # warm-up: every worker has rendered the page once
    errors = 0
    seconds = run(requests)
    return {"path": path, "requests": requests, "seconds": seconds, "errors": errors, "rps": requests / seconds}


def _service(pid: str) -> str | None:
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    if comm == "nginx":
        return "nginx"
    if comm.startswith("postgres"):
        return "postgresql"
    if comm == "gunicorn" or any(arg.endswith(b"/gunicorn") for arg in argv[:2]):
        return "gunicorn"
    return None


def _kib(path: str, key: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory() -> dict[str, dict[str, int]]:
    """RSS and PSS (KiB) and the process count of Gunicorn, nginx and PostgreSQL, from /proc."""
    totals = {name: {"rss": 0, "pss": 0, "processes": 0} for name in ("gunicorn", "nginx", "postgresql")}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        name = _service(pid)
        if name:
            totals[name]["rss"] += _kib(f"/proc/{pid}/status", "VmRSS")
            totals[name]["pss"] += _kib(f"/proc/{pid}/smaps_rollup", "Pss")
            totals[name]["processes"] += 1
    return totals


# ---------------------------------------------------------------------------------------------------
# On the control machine.


class Bench:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.logs = CACHE / "bench"
        self.inventory = work / "inventory"
        self.cluster_inventory = work / "cluster-inventory"
        self.lean_inventory = work / "lean-inventory"
        self.bare = work / "repo.git"
        self.facts_play = work / "facts.yml"
        self.db_password = secrets.token_hex(12)
        self.env = dict(os.environ)
        self.env.update(
            PATH=f"{REPO / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
            CONTAINERS_CONF=str(REPO / ".config" / "containers.conf"),
            ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
            ANSIBLE_ROLES_PATH=str(REPO / "roles"),
            ANSIBLE_NOCOLOR="1",
            # As in the Molecule scenarios: a busy 2-core machine can be slow to start a connection.
            ANSIBLE_TIMEOUT="30",
            ANSIBLE_SSH_RETRIES="3",
            PROFILE_TASKS_TASK_OUTPUT_LIMIT="all",
        )
        self.control_dirs = 0

    # --- helpers -------------------------------------------------------------------------------------

    def sh(self, *argv: str, stdin: str | None = None, capture: bool = True, timeout: float = 900) -> str:
        result = subprocess.run(
            argv,
            input=stdin,
            text=True,
            env=self.env,
            timeout=timeout,
            check=False,
            stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        if result.returncode != 0:
            raise BenchError(f"{' '.join(argv[:4])} ... exited {result.returncode}: {result.stderr.strip()[-2000:]}")
        return result.stdout if capture else ""

    def inside(self, container: str, *args: str) -> dict:
        """This file's `load` or `memory` inside a container; their JSON answer."""
        source = Path(__file__).read_text()
        return json.loads(self.sh("podman", "exec", "-i", container, "python3", "-", *args, stdin=source))

    def playbook(self, label: str, playbook: Path, *args: str, inventory: Path | None = None) -> Run:
        """ansible-playbook against bench-site (or `inventory`), timed; its whole output in <logs>/<label>.log."""
        self.control_dirs += 1
        # Each run opens its own SSH master (ControlPersist), as a run after a pause does.
        control = self.work / f"cp{self.control_dirs}"
        control.mkdir()
        log = self.logs / f"{label}.log"
        argv = ["ansible-playbook", "-i", str(inventory or self.inventory), str(playbook), *args]
        with log.open("w") as out:
            start = time.monotonic()
            code = subprocess.run(
                argv,
                cwd=REPO,
                env={**self.env, "ANSIBLE_SSH_CONTROL_PATH_DIR": str(control)},
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                check=False,
            ).returncode
            seconds = time.monotonic() - start
        text = log.read_text()
        if code != 0:
            tail = "\n".join(text.splitlines()[-40:])
            raise BenchError(f"{label}: ansible-playbook exited {code} (log: {log})\n{tail}")
        # Summed over the hosts of the run (one, or the cluster's four).
        recap: dict[str, int] = {"hosts": 0}
        for match in RECAP.finditer(text):
            recap["hosts"] += 1
            for key, value in match.groupdict().items():
                if key != "host":
                    recap[key] = recap.get(key, 0) + int(value)
        tail = text[text.rfind("PLAY RECAP") :]
        tasks = [(m["task"].strip(), float(m["seconds"])) for m in PROFILE_LINE.finditer(tail)]
        print(f"  {label}: {seconds:.1f} s, changed={recap.get('changed', '?')}", file=sys.stderr)
        return Run(seconds, recap, sorted(tasks, key=lambda task: -task[1]))

    def page_loops(self, container: str) -> tuple[dict, dict]:
        """GET / through nginx and from Gunicorn's socket, in alternating rounds: both see the same background load."""
        totals: dict[str, dict] = {
            target: {"seconds": 0.0, "errors": 0, "rounds": []} for target in ("https", f"unix:{SOCKET}")
        }
        for _ in range(PAGE_ROUNDS):
            for target, total in totals.items():
                result = self.inside(
                    container, "load", target, "/", str(PAGE_REQUESTS // PAGE_ROUNDS), str(CONCURRENCY)
                )
                total["seconds"] += result["seconds"]
                total["errors"] += result["errors"]
                total["rounds"].append(f"{result['rps']:.0f}")
        for total in totals.values():
            total["rps"] = PAGE_REQUESTS // PAGE_ROUNDS * PAGE_ROUNDS / total["seconds"]
        return totals["https"], totals[f"unix:{SOCKET}"]

    def median_run(self, label: str, playbook: Path, *args: str) -> Run:
        runs = [self.playbook(f"{label}-{i + 1}", playbook, *args) for i in range(FACTS_REPEAT)]
        return Run(statistics.median(run.seconds for run in runs), runs[0].recap)

    def floor(self, step: str) -> float:
        """tools/bench.floor.sh <step> in bench-script, timed."""
        start = time.monotonic()
        password = f"BENCH_DB_PASSWORD={self.db_password}"
        pins = f"BENCH_PIP_PINS={' '.join(pip_pins())}"
        self.sh("podman", "exec", "-e", password, "-e", pins, SCRIPT, "bash", "/usr/local/sbin/bench-floor", step,
                capture=False)  # fmt: skip
        seconds = time.monotonic() - start
        print(f"  floor {step}: {seconds:.1f} s", file=sys.stderr)
        return seconds

    # --- setup and teardown --------------------------------------------------------------------------

    def remove_containers(self) -> None:
        names = self.sh("podman", "ps", "-a", "--format", "{{.Names}}").split()
        ours = [name for name in names if name.startswith("bench-")]
        if ours:
            subprocess.run(
                ["podman", "rm", "-f", "-t", "5", *ours],
                env=self.env,
                check=False,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

    def prepare(self) -> None:
        shutil.rmtree(self.logs, ignore_errors=True)
        self.logs.mkdir(parents=True)
        # The app's repository as tools/demo.sh makes it: a bare clone of this project's committed main.
        self.sh("git", "clone", "-q", "--bare", str(REPO), str(self.bare))
        self.facts_play.write_text(FACTS_PLAY)
        site_vars = {
            "app_name": APP,
            "app_domains": [DOMAIN],
            "app_repo": f"file://{REPO_IN_CONTAINER}",
            "app_version": "main",
            "app_project_dir": "example",
            "app_settings_module": "mysite.settings",
            "app_db_password": self.db_password,
            "app_admin": {"username": "admin", "email": "admin@localhost", "password": self.db_password},
            "app_tls": "self-signed",
        }
        connection = {
            "ansible_connection": "ssh",
            "ansible_user": "root",
            "ansible_python_interpreter": "/usr/bin/python3",
            "ansible_ssh_private_key_file": str(CACHE / "ssh" / "id_ed25519"),
            "ansible_ssh_common_args": (
                f'-o ProxyCommand="{REPO / "tools" / "ssh-proxy"} %h" -o StrictHostKeyChecking=no'
                " -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
            ),
        }
        one_host = {group: [SITE] for group in ("dbservers", "appservers", "webservers")}
        self.write_inventory(self.inventory, one_host, site_vars, connection)
        self.write_inventory(self.lean_inventory, {"lean": [LEAN]}, site_vars, connection)
        # Several app hosts share one SECRET_KEY; nginx reaches Gunicorn over TCP from another host.
        cluster_vars = {**site_vars, "app_secret_key": secrets.token_urlsafe(48), "app_tcp_port": 8000}
        groups: dict[str, list[str]] = {}
        for name, group in CLUSTER.items():
            groups.setdefault(group, []).append(name)
        self.write_inventory(self.cluster_inventory, groups, cluster_vars, connection)

        self.remove_containers()
        for name in (SITE, SCRIPT, LEAN):
            self.start_container(name)
        for name in (SITE, SCRIPT, LEAN):
            self.wait_for_systemd(name)
        self.sh("podman", "cp", str(REPO / "tools" / "bench.floor.sh"), f"{SCRIPT}:/usr/local/sbin/bench-floor")

    @staticmethod
    def write_inventory(path: Path, groups: dict[str, list[str]], site_vars: dict, connection: dict) -> None:
        # JSON is YAML: the inventory is written with the standard library.
        hosts = {"all": {"children": {group: {"hosts": dict.fromkeys(names)} for group, names in groups.items()}}}
        (path / "group_vars").mkdir(parents=True)
        (path / "host_vars").mkdir()
        (path / "hosts.yml").write_text(json.dumps(hosts, indent=2) + "\n")
        (path / "group_vars" / "all.yml").write_text(json.dumps(site_vars, indent=2) + "\n")
        for name in {name for names in groups.values() for name in names}:
            (path / "host_vars" / f"{name}.yml").write_text(json.dumps(connection, indent=2) + "\n")

    def start_container(self, name: str, *options: str) -> None:
        """Like tools/demo.sh: systemd as PID 1, the repository read-only, the shared apt cache through an overlay."""
        self.sh(
            *("podman", "run", "-d", "--systemd=always", "--privileged", *options),
            *("-v", f"{self.bare}:{REPO_IN_CONTAINER}:ro", "-v", f"{CACHE / 'apt-debian12'}:/var/cache/apt/archives:O"),
            *("--name", name, "--hostname", name, IMAGE, "/sbin/init"),
        )

    def start_cluster(self) -> None:
        """The four hosts of the split on a network of their own, each like bench-site."""
        self.remove_network()
        self.sh("podman", "network", "create", NETWORK, capture=False)
        for name in CLUSTER:
            self.start_container(name, "--network", NETWORK)
        for name in CLUSTER:
            self.wait_for_systemd(name)

    def remove_network(self) -> None:
        subprocess.run(
            ["podman", "network", "rm", "-f", NETWORK],
            env=self.env,
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def wait_for_systemd(self, name: str) -> None:
        # Right after `podman run`, systemctl cannot reach systemd yet: ask again (like tools/demo.sh).
        state = ""
        for _ in range(60):
            state = subprocess.run(
                ["podman", "exec", name, "systemctl", "is-system-running", "--wait"],
                env=self.env,
                capture_output=True,
                text=True,
                timeout=180,
                check=False,
            ).stdout.strip()
            if state in ("running", "degraded"):
                return
            time.sleep(1)
        raise BenchError(f"{name}: systemd did not come up ({state or 'no answer'})")

    def push_commit(self) -> str:
        """A new commit on main of the bare repository: a static file changes, the requirements do not."""
        clone = self.work / "clone"
        if not clone.exists():
            self.sh("git", "clone", "-q", str(self.bare), str(clone))
        css = clone / "example" / "notes" / "static" / "notes" / "site.css"
        css.write_text(css.read_text() + f"\n/* make bench {time.strftime('%Y-%m-%dT%H:%M:%S')} */\n")
        git = ("git", "-C", str(clone), "-c", "user.name=bench", "-c", "user.email=bench@localhost")
        self.sh(*git, "commit", "-q", "-a", "-m", "bench: a new stylesheet")
        self.sh(*git, "push", "-q", "origin", "HEAD:main")
        return self.sh(*git, "rev-parse", "HEAD").strip()

    def manual_packages(self, container: str) -> set[str]:
        return set(self.sh("podman", "exec", container, "apt-mark", "showmanual").split())

    # --- the run -------------------------------------------------------------------------------------

    def run(self) -> tuple[list[Row], dict[str, Run], list[str]]:
        rows: list[Row] = []
        runs: dict[str, Run] = {}
        remarks: list[str] = []
        site, deploy = REPO / "site.yml", REPO / "playbooks" / "deploy.yml"
        podman = ("-e", "ansible_connection=containers.podman.podman")

        print("bench: cold runs", file=sys.stderr)
        runs["cold site.yml"] = self.playbook("site-cold", site)
        cold_floor = self.floor("cold")
        lean, lean_pins = REPO / "tools" / "bench.lean.yml", ("-e", json.dumps({"lean_pip_pins": pip_pins()}))
        runs["cold lean playbook"] = self.playbook("lean-cold", lean, *lean_pins, inventory=self.lean_inventory)
        missing = self.manual_packages(SITE) - self.manual_packages(SCRIPT)
        if missing:
            why = " (python3-apt: Ansible's apt module installs it for itself)" if "python3-apt" in missing else ""
            remarks.append(f"site.yml installed packages the floor did not: {' '.join(sorted(missing))}{why}")

        print("bench: no-op runs over SSH", file=sys.stderr)
        facts_ssh = self.median_run("facts-ssh", self.facts_play)
        runs["no-op site.yml"] = self.playbook("site-noop", site)
        runs["no-op deploy.yml"] = self.playbook("deploy-noop", deploy)
        runs["lean playbook again"] = self.playbook("lean-again", lean, *lean_pins, inventory=self.lean_inventory)
        self.sh("podman", "rm", "-f", "-t", "5", LEAN)  # not running beside the measures below

        print("bench: no-op runs over podman exec", file=sys.stderr)
        facts_podman = self.median_run("facts-podman", self.facts_play, *podman)
        site_podman = self.playbook("site-noop-podman", site, *podman)
        deploy_podman = self.playbook("deploy-noop-podman", deploy, *podman)

        print("bench: a new commit", file=sys.stderr)
        sha = self.push_commit()
        runs["deploy.yml of a new commit"] = self.playbook("deploy-new-commit", deploy)
        deploy_floor = self.floor("deploy")
        # The same, with every role's host setup run as site.yml runs it: what skipping an unchanged one saves.
        self.push_commit()
        runs["deploy.yml of a new commit, every setup"] = self.playbook(
            "deploy-new-commit-setup", deploy, "-e", "app_deploy_setup=always"
        )
        # The no-op site.yml with every role's host setup run (none skipped as recorded and verified): what verifying
        # saves. Last of the one-host runs, like the one above: a setting given with -e is a name the inventory sets,
        # which the preflight's input fingerprint covers, so the run after one checks the inputs again.
        runs["no-op site.yml, every setup"] = self.playbook("site-noop-setup", site, "-e", "app_site_setup=always")

        print("bench: memory, then the request loops", file=sys.stderr)
        memory_site, memory_script = self.inside(SITE, "memory"), self.inside(SCRIPT, "memory")
        page_nginx, page_gunicorn = self.page_loops(SITE)
        static_nginx = self.inside(SITE, "load", "https", "static", str(STATIC_REQUESTS), str(CONCURRENCY))
        # The same two loops against the plain script's minimal nginx site: what the role's vhost costs.
        plain_nginx, plain_gunicorn = self.page_loops(SCRIPT)
        memory_loaded = self.inside(SITE, "memory")

        # Last, so that the four hosts do not run beside the one-host measures above.
        print("bench: db + 2 app + web", file=sys.stderr)
        self.start_cluster()
        cluster = self.cluster_inventory
        runs["cold site.yml, 4 hosts"] = self.playbook("cluster-site-cold", site, inventory=cluster)
        runs["no-op site.yml, 4 hosts"] = self.playbook("cluster-site-noop", site, inventory=cluster)
        cluster_sha = self.push_commit()
        runs["deploy.yml of a new commit, 4 hosts"] = self.playbook("cluster-deploy-new-commit", deploy,
                                                                    inventory=cluster)  # fmt: skip

        def changes(run: Run) -> str:
            # ok counts the changed tasks too (ansible-playbook's recap): a task is ok, skipped, failed or unreachable.
            tasks = sum(run.recap.get(key, 0) for key in ("ok", "skipped", "failed", "unreachable"))
            hosts = run.recap.get("hosts", 1)
            where = f" on {hosts} hosts" if hosts > 1 else ""
            return f"changed={run.recap.get('changed', '?')}, {tasks} tasks{where}"

        def loop_notes(nginx: dict, gunicorn: dict) -> str:
            rounds = f"{'/'.join(nginx['rounds'])} and {'/'.join(gunicorn['rounds'])} req/s"
            return f"{PAGE_REQUESTS} requests each; rounds {rounds}; errors {nginx['errors']} / {gunicorn['errors']}"

        cold, noop_site = runs["cold site.yml"], runs["no-op site.yml"]
        noop_deploy, new_deploy = runs["no-op deploy.yml"], runs["deploy.yml of a new commit"]
        static_name = static_nginx["path"].rsplit("/", 1)[-1]
        loops = f"{CONCURRENCY} clients"
        lean_cold, lean_again = runs["cold lean playbook"], runs["lean playbook again"]
        rows += [
            Row("1. cold `site.yml` (SSH) / plain script", cold.seconds, cold_floor, "s", changes(cold)),
            Row("1b. cold lean playbook (`tools/bench.lean.yml`, SSH) / plain script", lean_cold.seconds, cold_floor,
                "s", changes(lean_cold)),
            Row("1c. cold `site.yml` / the lean playbook (1. / 1b.)", cold.seconds, lean_cold.seconds, "s",
                "what the roles add to Ansible's own cost"),
            Row("2. no-op `site.yml` (SSH) / facts-only play", noop_site.seconds, facts_ssh.seconds, "s",
                changes(noop_site)),
            Row("2b. no-op `site.yml`: every setup run (`app_site_setup=always`) / 2.",
                runs["no-op site.yml, every setup"].seconds, noop_site.seconds, "s",
                changes(runs["no-op site.yml, every setup"])),
            Row("2c. the lean playbook again (SSH) / facts-only play", lean_again.seconds, facts_ssh.seconds, "s",
                changes(lean_again)),
            Row("3. no-op `deploy.yml` (SSH) / facts-only play", noop_deploy.seconds, facts_ssh.seconds, "s",
                changes(noop_deploy)),
            Row("4. `deploy.yml` of a new commit (SSH) / plain script", new_deploy.seconds, deploy_floor, "s",
                f"{changes(new_deploy)}; commit {sha[:12]}"),
            Row("4b. `deploy.yml` of a new commit: every setup run (`app_deploy_setup=always`) / 4.",
                runs["deploy.yml of a new commit, every setup"].seconds, new_deploy.seconds, "s",
                changes(runs["deploy.yml of a new commit, every setup"])),
            Row(f"5a. GET / through nginx (HTTPS) / Gunicorn's socket, {loops}", page_nginx["rps"],
                page_gunicorn["rps"], "req/s",
                loop_notes(page_nginx, page_gunicorn)),
            Row(f"5b. the same in the plain script's container (a minimal nginx site), {loops}",
                plain_nginx["rps"], plain_gunicorn["rps"], "req/s",
                loop_notes(plain_nginx, plain_gunicorn)),
            Row(f"5c. a static file through nginx (HTTPS), {loops}", static_nginx["rps"], None, "req/s",
                f"{STATIC_REQUESTS} requests of {static_name}; errors {static_nginx['errors']}; no floor"),
            Row("6a. facts-only play: podman exec / SSH", facts_podman.seconds, facts_ssh.seconds, "s",
                f"median of {FACTS_REPEAT}"),
            Row("6b. no-op `site.yml`: podman exec / SSH", site_podman.seconds, noop_site.seconds, "s",
                changes(site_podman)),
            Row("6c. no-op `deploy.yml`: podman exec / SSH", deploy_podman.seconds, noop_deploy.seconds, "s",
                changes(deploy_podman)),
        ]  # fmt: skip
        for name, label in (("gunicorn", "7a. Gunicorn"), ("nginx", "7b. nginx"), ("postgresql", "7c. PostgreSQL")):
            mine, floor, loaded = (memory[name] for memory in (memory_site, memory_script, memory_loaded))
            rows.append(Row(
                f"{label} RSS: site.yml's / the plain script's", mine["rss"] / 1024, floor["rss"] / 1024, "MiB",
                f"{mine['processes']} / {floor['processes']} processes; PSS {mine['pss'] / 1024:.0f} / "
                f"{floor['pss'] / 1024:.0f} MiB; {loaded['rss'] / 1024:.0f} MiB after the request loops",
            ))  # fmt: skip
        new_commit = f"; commit {cluster_sha[:12]}"
        for label, name, one_host, note in (
            ("8a. cold `site.yml`", "cold site.yml", cold, ""),
            ("8b. no-op `site.yml`", "no-op site.yml", noop_site, ""),
            ("8c. `deploy.yml` of a new commit", "deploy.yml of a new commit", new_deploy, new_commit),
        ):
            run = runs[f"{name}, 4 hosts"]
            rows.append(Row(f"{label}: db + 2 app + web / one host", run.seconds, one_host.seconds, "s",
                            changes(run) + note))  # fmt: skip
        return rows, runs, remarks


def pip_pins() -> list[str]:
    """The pip, setuptools and wheel python_venv installs into a virtualenv first (its defaults), as pip arguments."""
    defaults = (REPO / "roles" / "python_venv" / "defaults" / "main.yml").read_text()
    pins = []
    for name in ("pip", "setuptools", "wheel"):
        match = re.search(rf'^python_venv_{name}_version: "([^"]*)"$', defaults, re.MULTILINE)
        if match is None:
            raise BenchError(f"roles/python_venv/defaults/main.yml: no python_venv_{name}_version")
        if match.group(1):
            pins.append(f"{name}=={match.group(1)}")
    return pins


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    return f"{value:.0f} {unit}" if unit == "req/s" else f"{value:.1f} {unit}"


def table(rows: list[Row]) -> str:
    lines = ["| measure | figure | floor | ratio | notes |", "| --- | ---: | ---: | ---: | --- |"]
    for row in rows:
        ratio = f"{row.figure / row.floor:.2f}" if row.figure is not None and row.floor else "—"
        figure, floor = _number(row.figure, row.unit), _number(row.floor, row.unit)
        lines.append(f"| {row.label} | {figure} | {floor} | {ratio} | {row.notes} |")
    return "\n".join(lines)


def where_time_goes(runs: dict[str, Run]) -> str:
    """Per run: the time of its tasks by role (profile_tasks), then its slowest tasks."""
    parts = []
    for name, run in runs.items():
        by_role: dict[str, list[float]] = {}
        for task, seconds in run.tasks:
            role = task.split(" : ", 1)[0].rsplit(".", 1)[-1] if " : " in task else "(playbooks)"
            by_role.setdefault(role, []).append(seconds)
        total = sum(seconds for _, seconds in run.tasks)
        parts.append(f"\n{name}: {len(run.tasks)} tasks, {total:.1f} s of {run.seconds:.1f} s")
        roles = sorted(by_role.items(), key=lambda item: -sum(item[1]))
        parts.append("  by role: " + ", ".join(f"{role} {sum(times):.1f} s ({len(times)})" for role, times in roles))
        parts.extend(f"  {seconds:6.2f} s  {task}" for task, seconds in run.tasks[:SLOWEST_TASKS])
    return "\n".join(parts)


def main() -> int:
    # SIGTERM (a stopped make, a CI timeout) cleans up like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="djangoops-bench-") as work:
        bench = Bench(Path(work))
        try:
            bench.prepare()
            rows, runs, remarks = bench.run()
        except BenchError as error:
            print(f"bench: {error}", file=sys.stderr)
            return 1
        finally:
            bench.remove_containers()
            bench.remove_network()
    cores = len(os.sched_getaffinity(0))
    version = subprocess.run(
        ["ansible-playbook", "--version"], env=bench.env, capture_output=True, text=True, check=False
    ).stdout.splitlines()[0]
    print(f"\n`make bench` on {time.strftime('%Y-%m-%d')}: {IMAGE.split('/')[-1]}, {cores} CPUs, {version},")
    print(f"{(time.monotonic() - start) / 60:.1f} minutes in all. Ratio = figure / floor.\n")
    print(table(rows))
    for remark in remarks:
        print(f"\nNote: {remark}")
    print(where_time_goes(runs))
    print(f"\nLogs of every run: {bench.logs}")
    return 0


def _inside(argv: list[str]) -> int:
    if argv[0] == "load":
        target, path, requests, concurrency = argv[1:]
        print(json.dumps(load(target, path, int(requests), int(concurrency))))
    elif argv[0] == "memory":
        print(json.dumps(memory()))
    else:
        raise SystemExit(f"unknown command {argv[0]}")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(_inside(sys.argv[1:]) if len(sys.argv) > 1 else main())
