"""gunicorn under systemd, checked the way a user would: requests over the socket, as several users,
across reloads, with broken and bad input.

The tests run in file order and share the container: they start from r1 (fixture `fresh_start`), move
`current` to r2 (reload), run both entry points in check mode, refuse r3 (broken), restart for r4
(another virtualenv) and refuse r5 (imports as the app user, but not in the service's sandbox).
The service runs gthread workers (vars/demo.yml).
"""

import json
import re
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

APP = "demo"
SERVICE = f"{APP}.service"
SOCKET_UNIT = f"{APP}.socket"
SOCKET = f"/run/{APP}/gunicorn.sock"
ROOT = f"/srv/{APP}"
CONFIG = f"/etc/{APP}/gunicorn.conf.py"
ENV_FILE = f"/etc/{APP}/env"
README = Path(__file__).resolve().parents[3] / "roles" / "gunicorn" / "README.md"
SHA = {name: str(index) * 40 for index, name in enumerate(["r1", "r2", "r3", "r4", "r5"], start=1)}
THREADS = 4


def request(host, path="/", user="www-data", headers=()):
    """GET path over the unix socket as `user`; the app's JSON answer."""
    header_args = " ".join(f"-H '{header}'" for header in headers)
    result = host.run(
        f"runuser -u {user} -- curl --silent --show-error --fail --max-time 20 "
        f"--unix-socket {SOCKET} {header_args} 'http://localhost{path}'"
    )
    assert result.rc == 0, f"request as {user} failed: {result.stderr}"
    return json.loads(result.stdout)


def main_pid(host):
    return int(host.check_output(f"systemctl show --property=MainPID --value {SERVICE}"))


def worker_pids(host, pid):
    return sorted(int(child) for child in host.check_output(f"cat /proc/{pid}/task/*/children").split())


def switch_current(host, release):
    """Move `current` atomically, as app_code's activate does."""
    host.run_expect([0], f"ln -sfn releases/{release} {ROOT}/current.tmp && mv -T {ROOT}/current.tmp {ROOT}/current")


def recap(stdout):
    """The PLAY RECAP counters of the instance, e.g. {'ok': 5, 'changed': 1, 'failed': 0, ...}."""
    line = next(line for line in stdout.splitlines() if re.match(r"^\S+\s+:\s+ok=", line))
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line)}


def wait_for(predicate, timeout=30.0, interval=0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


@contextmanager
def request_loop(host, name):
    """Three clients sending requests over the socket (as nginx's user) while the block runs.

    Yields a dict that holds, after the block, the loop's lines: "ok <release>" or "fail <error>".
    """
    out, stop = f"/var/tmp/{name}.out", f"/var/tmp/{name}.stop"
    host.run(f"rm -f {out} {stop}")
    host.run_expect(
        [0], f"systemd-run --unit={name} --collect --property=User=www-data /usr/local/bin/request-loop {out} {stop}"
    )
    assert wait_for(lambda: len(host.file(out).content_string.splitlines()) >= 10), "the request loop never answered"
    results = {}
    try:
        yield results
    finally:
        host.run(f"touch {stop}")
        assert wait_for(lambda: host.file(out).content_string.rstrip().endswith("done"), timeout=60)
        results["lines"] = host.file(out).content_string.splitlines()[:-1]


@pytest.fixture(scope="module", autouse=True)
def fresh_start(host):
    """r1 is current and the service is stopped, as right after a first converge."""
    switch_current(host, "r1")
    host.run_expect([0], f"systemctl stop {SERVICE}")
    host.run_expect([0], f"sed -i 's/^GREETING=.*/GREETING=hello/' {ENV_FILE}")


def test_socket_is_active_and_only_app_and_nginx_may_connect(host):
    socket_unit = host.service(SOCKET_UNIT)
    assert socket_unit.is_running
    assert socket_unit.is_enabled
    socket_file = host.file(SOCKET)
    assert socket_file.is_socket
    assert socket_file.user == APP
    assert socket_file.group == "www-data"
    assert socket_file.mode == 0o660


def test_service_starts_on_first_request_and_runs_as_app_user(host):
    assert host.run(f"systemctl is-active {SERVICE}").stdout.strip() == "inactive"
    answer = request(host)
    assert answer["release"] == "r1"
    assert host.service(SERVICE).is_running
    app_uid = int(host.check_output(f"id -u {APP}"))
    assert answer["uid"] == app_uid
    pid = main_pid(host)
    assert host.check_output(f"stat -c %U /proc/{pid}") == APP
    for worker in worker_pids(host, pid):
        assert host.check_output(f"stat -c %U /proc/{worker}") == APP


def test_app_user_may_connect_and_unrelated_user_is_refused(host):
    assert request(host, user=APP)["release"] == "r1"
    refused = host.run(f"runuser -u nobody2 -- curl --silent --show-error --unix-socket {SOCKET} http://localhost/")
    assert refused.rc == 7, refused.stdout
    probe = host.run(
        f"runuser -u nobody2 -- python3 -c \"import socket; socket.socket(socket.AF_UNIX).connect('{SOCKET}')\""
    )
    assert probe.rc != 0
    assert "PermissionError" in probe.stderr


def test_workers_default_to_twice_the_cpus_plus_one(host):
    expected = 2 * int(host.check_output("nproc")) + 1
    pid = main_pid(host)
    assert wait_for(lambda: len(worker_pids(host, pid)) == expected, timeout=15), worker_pids(host, pid)


def test_gthread_workers_answer_requests_on_their_threads(host):
    started = host.check_output(f"systemctl show --property=ExecMainStartTimestamp --value {SERVICE}")
    journal = host.run(f"journalctl --unit={SERVICE} --since='{started}' --no-pager --output=cat").stdout
    assert "Using worker: gthread" in journal
    # Slow requests all at once; while they run, count the threads of each worker.
    workers = worker_pids(host, main_pid(host))
    count = THREADS * len(workers)
    curls = " ".join(
        f"curl --silent --show-error --fail --max-time 20 --unix-socket {SOCKET} 'http://localhost/?sleep=2' "
        f">/var/tmp/gthread-{n}.json &"
        for n in range(count)
    )
    counts = "; ".join(f"echo {pid} $(awk '/^Threads:/ {{print $2}}' /proc/{pid}/status)" for pid in workers)
    host.run_expect([0], f"{curls} sleep 1; {{ {counts}; }} >/var/tmp/gthread-threads; wait")
    answers = [json.loads(host.file(f"/var/tmp/gthread-{n}.json").content_string) for n in range(count)]
    assert all(answer["thread"].startswith("ThreadPoolExecutor") for answer in answers), answers
    threads = dict(map(int, line.split()) for line in host.file("/var/tmp/gthread-threads").content_string.splitlines())
    # The main thread and at most gunicorn_threads pool threads; two or more = requests served side by side.
    assert max(threads.values()) <= 1 + THREADS, threads
    assert max(threads.values()) >= 3, threads


def test_app_gets_environment_file_and_release_sha(host):
    answer = request(host)
    assert answer["greeting"] == "hello"
    assert answer["quoted"] == "two words"
    assert answer["git_sha"] == SHA["r1"]
    assert answer["prefix"] == f"{ROOT}/venvs/v1"


def test_forwarded_proto_from_the_unix_socket_peer_reaches_the_app(host):
    # gunicorn trusts every peer of a unix socket (only nginx can connect): the scheme follows the header.
    assert request(host)["scheme"] == "http"
    answer = request(host, headers=["X-Forwarded-Proto: https"])
    assert answer["scheme"] == "https"
    assert answer["forwarded_proto"] == "https"


def test_access_log_goes_to_the_journal(host):
    request(host, path="/?journal-probe=1")
    assert wait_for(
        lambda: "journal-probe=1" in host.run(f"journalctl --unit={SERVICE} --no-pager --output=cat").stdout, timeout=10
    )


def test_sandbox_allows_writes_to_media_only(host):
    assert request(host, path=f"/?write={ROOT}/shared/media/probe")["written"] == "ok"
    assert host.file(f"{ROOT}/shared/media/probe").user == APP
    for path in [f"{ROOT}/current/site/probe", f"{ROOT}/shared/static/probe", "/etc/probe", "/srv/probe"]:
        written = request(host, path=f"/?write={path}")["written"]
        assert written.startswith(("OSError: Read-only file system", "PermissionError")), (path, written)
        assert not host.file(path).exists
    # /tmp and /var/tmp are private to the service.
    for path in ["/tmp/gunicorn-probe", "/var/tmp/gunicorn-probe"]:
        assert request(host, path=f"/?write={path}")["written"] == "ok"
        assert not host.file(path).exists


def test_sandbox_exposure_is_low_and_reported_in_the_readme(host):
    output = host.check_output(f"systemd-analyze security --no-pager {SERVICE}")
    measured = re.search(r"Overall exposure level for \S+: ([0-9.]+)", output).group(1)
    assert float(measured) <= 2.0, output
    reported = re.search(r"exposure level[^0-9]*([0-9.]+)", README.read_text(encoding="utf-8"), re.IGNORECASE)
    assert reported, "README reports no exposure level"
    assert reported.group(1) == measured, f"README reports {reported.group(1)}, measured {measured}"


def test_reload_serves_new_release_without_dropping_a_request(host, run_playbook):
    master = main_pid(host)
    with request_loop(host, "reload-loop") as loop:
        switch_current(host, "r2")
        host.run_expect([0], f"sed -i 's/^GREETING=.*/GREETING=bonjour/' {ENV_FILE}")
        result = run_playbook("reload.yml", limit=host.backend.name)
        assert result.returncode == 0, result.stdout
        assert recap(result.stdout)["changed"] >= 1
        time.sleep(1)
    failures = [line for line in loop["lines"] if not line.startswith("ok ")]
    assert failures == []
    answered = [line.split()[1] for line in loop["lines"]]
    assert {"r1", "r2"} <= set(answered), "the loop did not run across the reload"
    assert answered[-3:] == ["r2"] * 3
    assert main_pid(host) == master
    answer = request(host)
    assert answer["release"] == "r2"
    assert answer["git_sha"] == SHA["r2"]
    assert answer["greeting"] == "bonjour"
    assert answer["cwd"] == f"{ROOT}/releases/r2/site"
    for worker in worker_pids(host, master):
        assert host.check_output(f"readlink /proc/{worker}/cwd") == f"{ROOT}/releases/r2/site"


def test_reload_without_a_new_release_changes_nothing(host, run_playbook):
    master, workers = main_pid(host), worker_pids(host, main_pid(host))
    result = run_playbook("reload.yml", limit=host.backend.name)
    assert result.returncode == 0, result.stdout
    assert recap(result.stdout)["changed"] == 0
    assert main_pid(host) == master
    assert worker_pids(host, master) == workers


def test_the_release_the_master_serves_is_not_imported_again_when_nothing_changes(host, run_playbook):
    """main checks a release by importing it in the service's sandbox (about a second): not the one the running
    master already serves when the setup is skipped (gunicorn_setup=changed, nothing changed) and no reload is
    forced. A forced reload (new settings) checks it."""
    request(host)  # socket activation: the master runs
    master, workers = main_pid(host), worker_pids(host, main_pid(host))
    check = "Check that the release imports its WSGI app in the service's sandbox"
    statuses = re.compile(r"TASK \[gunicorn : ([^\]]+)\].*\n(?:(?!TASK ).*\n)*?(ok|changed|skipping|included):")
    result = run_playbook("converge.yml", {"gunicorn_setup": "changed"}, limit=host.backend.name)
    assert result.returncode == 0, result.stdout
    assert dict(statuses.findall(result.stdout))[check] == "skipping"
    assert recap(result.stdout)["changed"] == 0
    result = run_playbook(
        "converge.yml", {"gunicorn_setup": "changed", "gunicorn_reload_force": True}, limit=host.backend.name
    )
    assert result.returncode == 0, result.stdout
    assert dict(statuses.findall(result.stdout))[check] == "included"
    assert (main_pid(host), worker_pids(host, master)) == (master, workers)


def test_check_mode_runs_the_checks_and_changes_nothing(host, run_playbook):
    """main and reload under `check_mode: true` (what --check does), with a release that needs a restart."""
    master, workers = main_pid(host), worker_pids(host, main_pid(host))
    files = [CONFIG, f"/etc/systemd/system/{SERVICE}", f"/etc/systemd/system/{SOCKET_UNIT}"]
    before = [host.file(path).sha256sum for path in files]
    switch_current(host, "r4")
    try:
        result = run_playbook("check-mode.yml", limit=host.backend.name)
    finally:
        switch_current(host, "r2")
    assert result.returncode == 0, result.stdout
    # The probe and the import checks ran (check mode would skip a plain command), the restart was only reported:
    # main checked the release through the link, not the release the reload reads, so reload checks it again first.
    statuses = dict(
        re.findall(r"TASK \[gunicorn : ([^\]]+)\].*\n(?:(?!TASK ).*\n)*?(ok|changed|skipping):", result.stdout)
    )
    assert statuses["Inspect the accounts, the release and the writable paths"] == "ok"
    assert statuses["Import in the service's sandbox the WSGI app of /srv/demo/current"] == "ok"
    assert statuses["Reload (HUP) or restart gunicorn for the current release and wait for its workers"] == "ok"
    assert statuses["Reload (HUP) or restart gunicorn for the checked release and wait for its workers"] == "changed"
    assert recap(result.stdout)["changed"] == 1
    assert [host.file(path).sha256sum for path in files] == before
    assert main_pid(host) == master
    assert worker_pids(host, master) == workers
    assert request(host)["release"] == "r2"


def test_broken_release_is_refused_before_reload(host, run_playbook):
    master, workers = main_pid(host), worker_pids(host, main_pid(host))
    config = host.file(CONFIG).sha256sum
    result = run_playbook("converge.yml", {"gunicorn_release_path": f"{ROOT}/releases/r3"}, limit=host.backend.name)
    assert result.returncode != 0
    assert f"Release {ROOT}/releases/r3 cannot load hello:application" in result.stdout
    assert "ModuleNotFoundError: No module named 'module_that_does_not_exist'" in result.stdout
    assert host.file(f"{ROOT}/current").linked_to == f"{ROOT}/releases/r2"
    assert host.file(CONFIG).sha256sum == config
    assert main_pid(host) == master
    assert worker_pids(host, master) == workers
    assert request(host)["release"] == "r2"


def test_broken_release_made_current_is_not_loaded(host, run_playbook):
    master, workers = main_pid(host), worker_pids(host, main_pid(host))
    switch_current(host, "r3")
    try:
        result = run_playbook("reload.yml", limit=host.backend.name)
        assert result.returncode != 0
        assert f"Release {ROOT}/current cannot load hello:application" in result.stdout
        assert main_pid(host) == master
        assert worker_pids(host, master) == workers
        assert request(host)["release"] == "r2"
    finally:
        switch_current(host, "r2")


def test_new_virtualenv_restarts_without_dropping_a_request(host, run_playbook):
    master = main_pid(host)
    with request_loop(host, "restart-loop") as loop:
        switch_current(host, "r4")
        result = run_playbook("reload.yml", limit=host.backend.name)
        assert result.returncode == 0, result.stdout
        assert recap(result.stdout)["changed"] >= 1
        time.sleep(1)
    assert [line for line in loop["lines"] if not line.startswith("ok ")] == []
    answered = [line.split()[1] for line in loop["lines"]]
    assert {"r2", "r4"} <= set(answered), "the loop did not run across the restart"
    assert main_pid(host) != master
    answer = request(host)
    assert answer["release"] == "r4"
    assert answer["prefix"] == f"{ROOT}/venvs/v2"
    assert answer["git_sha"] == SHA["r4"]


def test_release_that_imports_only_outside_the_sandbox_is_refused(host, run_playbook):
    # r5 writes into its own directory at import time: allowed to the app user, not under ProtectSystem=strict.
    outside = host.run(
        f"cd {ROOT}/releases/r5/site && runuser -u {APP} -- {ROOT}/releases/r5/.venv/bin/python -c 'import hello'"
    )
    assert outside.rc == 0, outside.stderr
    assert host.file(f"{ROOT}/releases/r5/site/import-marker").content_string == "r5"
    master, workers = main_pid(host), worker_pids(host, main_pid(host))
    result = run_playbook("converge.yml", {"gunicorn_release_path": f"{ROOT}/releases/r5"}, limit=host.backend.name)
    assert result.returncode != 0
    assert f"Release {ROOT}/releases/r5 cannot load hello:application" in result.stdout
    assert f"Read-only file system: '{ROOT}/releases/r5/site/import-marker'" in result.stdout
    assert main_pid(host) == master
    assert worker_pids(host, master) == workers
    assert request(host)["release"] == "r4"
    # The check leaves neither its transient unit nor its files behind.
    assert host.run("systemctl list-units --all --no-legend 'demo-import-check-*'").stdout.strip() == ""
    assert host.run("ls -d /run/demo-import-check-*").rc != 0


@pytest.mark.parametrize(
    ("extra_vars", "message"),
    [
        (
            {"gunicorn_worker_class": "sync", "gunicorn_threads": 4},
            "gunicorn_threads > 1 needs gunicorn_worker_class 'gthread'",
        ),
        ({"gunicorn_worker_class": "gevent"}, "gunicorn_worker_class"),
        ({"gunicorn_bind": "0.0.0.0"}, "gunicorn_bind must be 'unix:/absolute/path' or 'host:port'"),
        ({"gunicorn_wsgi_app": "hello application"}, "gunicorn_wsgi_app must be 'module:variable'"),
        # null passes the argument spec (an unset option); the unit names would read "None".
        ({"gunicorn_service_name": None}, "gunicorn_service_name must be a systemd unit name"),
        ({"gunicorn_socket_group": "WWW"}, "gunicorn_socket_group must be a system name"),
        ({"gunicorn_chdir": "/srv/demo"}, "gunicorn_chdir must be a path relative to the release root"),
        (
            {"gunicorn_read_write_paths": ["/srv/demo/missing"]},
            "gunicorn_read_write_paths: /srv/demo/missing does not exist",
        ),
    ],
)
def test_bad_input_is_refused_before_anything_changes(host, run_playbook, extra_vars, message):
    files = [CONFIG, f"/etc/systemd/system/{SERVICE}", f"/etc/systemd/system/{SOCKET_UNIT}"]
    before = [host.file(path).sha256sum for path in files]
    result = run_playbook("converge.yml", extra_vars, limit=host.backend.name)
    assert result.returncode != 0
    assert message in " ".join(result.stdout.split()), result.stdout
    assert [host.file(path).sha256sum for path in files] == before
