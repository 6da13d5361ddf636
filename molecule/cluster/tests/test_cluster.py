"""The split (db1, app1 and app2, web1) as its users and its operators see it. Requests come from db1,
which stands in for a user's machine (site.test resolves to web1 there), over HTTPS with Pebble's root.
Tests run in file order: pages and uploads, a rolling deploy under load, one app host down, a rollback,
then what each host lets in. No test takes the `host` fixture, so testinfra runs each once."""

import json
import re
import shlex
import subprocess
import time
from pathlib import Path

import pytest
import yaml

DB, APP1, APP2, WEB = "cluster-db1", "cluster-app1", "cluster-app2", "cluster-web1"
APPS = (APP1, APP2)
ALL = (DB, APP1, APP2, WEB)
CLIENT = DB
BASE = "https://site.test"
CA = "/tmp/pebble-root.pem"
ADMIN_USER, ADMIN_PASSWORD = "admin", "cluster-scenario-admin-password"
DB_PASSWORD = "cluster-scenario-db-password"
UNIT = "notes.service"
SITE, DEPLOY, ROLLBACK = "../../site.yml", "../../playbooks/deploy.yml", "../../playbooks/rollback.yml"


def sh(name: str, script: str, check: bool = True) -> subprocess.CompletedProcess:
    """`script` run by bash in the container `name`."""
    return subprocess.run(["podman", "exec", name, "bash", "-c", script], capture_output=True, text=True, check=check)


def out(name: str, script: str) -> str:
    done = sh(name, script, check=False)
    assert done.returncode == 0, f"{name}: {script}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def address(name: str) -> str:
    return out(name, "ip -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1").strip()


@pytest.fixture(scope="module", autouse=True)
def pebble_root():
    """Pebble's root certificate on the client: the chain web1 serves must verify against it."""
    root = out(WEB, "curl -sS --fail --cacert /etc/pebble/cert.pem https://localhost:15000/roots/0")
    subprocess.run(["podman", "exec", "-i", CLIENT, "sh", "-c", f"cat > {CA}"], input=root, text=True, check=True)


def get(path: str, *curl_args: str) -> tuple[int, dict[str, str], str]:
    """GET through web1 from the client, verifying the certificate: status, lower-cased headers, body."""
    args = " ".join(shlex.quote(a) for a in ["--cacert", CA, *curl_args, BASE + path])
    text = out(
        CLIENT, f"curl -sS -D /tmp/headers -o /tmp/body {args} && cat /tmp/headers && echo ==BODY== && cat /tmp/body"
    )
    head, _, body = text.partition("==BODY==")
    lines = [line.strip() for line in head.strip().splitlines()]
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:]) if v}
    return int(lines[0].split()[1]), headers, body.lstrip("\n")


def log_marks() -> dict[str, int]:
    """Each app host's clock now, in microseconds (the journal's timestamps)."""
    return {name: int(out(name, "date +%s%6N")) for name in APPS}


def access_log(name: str, marks: dict[str, int]) -> list[str]:
    """The request lines Gunicorn on `name` logged after `marks` (log_marks())."""
    since = marks[name] // 1_000_000 - 1
    entries = out(name, f"journalctl -u {UNIT} --since @{since} -o json --output-fields=MESSAGE --no-pager")
    lines = [
        entry["MESSAGE"]
        for entry in map(json.loads, entries.splitlines())
        if int(entry["__REALTIME_TIMESTAMP"]) > marks[name] and isinstance(entry.get("MESSAGE"), str)
    ]
    return re.findall(r'"((?:GET|POST|HEAD) \S+) HTTP', "\n".join(lines))


def release_sha(name: str, link: str = "current") -> str:
    """The (short) sha of the release a link points at: release directories are named <time>-<sha>."""
    return out(name, f"readlink /srv/notes/{link}").strip().rpartition("-")[2]


def revision(name: str) -> str:
    return out(name, "cat /srv/notes/current/REVISION").strip()


def upload(text: str) -> dict:
    """Log in as the admin and create a note with a file, through the site's forms (browser.py, on the client)."""
    script = (Path(__file__).parents[2] / "site" / "tests" / "browser.py").read_text()
    subprocess.run(
        ["podman", "exec", "-i", CLIENT, "sh", "-c", "cat > /tmp/browser.py"], input=script, text=True, check=True
    )
    args = " ".join(shlex.quote(a) for a in [BASE, CA, ADMIN_USER, ADMIN_PASSWORD, "cluster.txt", text])
    return json.loads(out(CLIENT, f"python3 /tmp/browser.py {args}"))


@pytest.fixture(scope="module")
def uploads() -> list[tuple[dict, str, str]]:
    """Notes with a file, uploaded through web1 until each app host has taken one: (note, text, app host)."""
    done: list[tuple[dict, str, str]] = []
    for attempt in range(8):
        since = log_marks()
        text = f"uploaded through web1, attempt {attempt}"
        note = upload(text)
        took = [name for name in APPS if "POST /notes/new/" in access_log(name, since)]
        assert len(took) == 1, f"the upload POST was logged by {took}"
        done.append((note, text, took[0]))
        if {app for _, _, app in done} == set(APPS):
            return done
    pytest.fail(f"8 uploads all went to {done[0][2]}: nginx does not balance over the app hosts")


def test_home_page_over_https_and_both_app_hosts_answer():
    since = log_marks()
    for _ in range(10):
        status, headers, body = get("/")
        assert status == 200, body
        assert "strict-transport-security" in headers
    # journald may write a line a moment after the response: wait for all ten (at most 10 s).
    for _ in range(20):
        served = {name: access_log(name, since).count("GET /") for name in APPS}
        if sum(served.values()) >= 10:
            break
        time.sleep(0.5)
    assert all(count > 0 for count in served.values()), served
    assert sum(served.values()) == 10, served


def test_admin_css_is_hashed_immutable_and_served_by_web1_itself():
    status, _, page = get("/admin/login/")
    assert status == 200
    (css,) = re.findall(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', page)
    since = log_marks()
    status, headers, body = get(css)
    assert status == 200
    assert "body" in body
    assert "immutable" in headers["cache-control"]
    # nginx read it from web1's disk: no app host saw the request.
    assert all(css not in " ".join(access_log(name, since)) for name in APPS)
    assert out(WEB, f"stat -c %U /srv/notes/shared{css}").strip() == "notes"


def test_an_upload_is_served_by_web1_whichever_app_host_took_it(uploads):
    for note, text, _ in uploads:
        status, headers, body = get(note["media_url"])
        assert (status, body) == (200, text)
        assert headers["x-content-type-options"] == "nosniff"
        # One copy, on web1's disk, which both app hosts see through their mount.
        path = "/srv/notes/shared" + note["media_url"]
        assert out(WEB, f"stat -c %U {path}").strip() == "notes"
        for name in APPS:
            assert out(name, f"cat {path}") == text
    for name in APPS:
        mounts = out(name, "findmnt -n -t fuse.sshfs -o TARGET,SOURCE").split("\n")
        assert any(line.startswith("/srv/notes/shared/media ") for line in mounts), mounts


def role_task_titles(files: str, module: str | None = None) -> list[str]:
    """The titles ("<role> : <name>") of the top-level tasks in the roles' task files matching `files`
    (a glob under roles/*/tasks/), those that run `module` when given, read from their sources. An import
    prints no title of its own (its tasks do), so imports are left out."""
    roles = Path(__file__).resolve().parents[3] / "roles"
    titles = []
    for path in sorted(roles.glob(f"*/tasks/{files}")):
        for task in yaml.safe_load(path.read_text()) or []:
            if "ansible.builtin.import_tasks" not in task and (module is None or module in task):
                titles.append(f"djangoops.django.{path.parts[-3]} : {task['name']}")
    return titles


def test_a_second_site_run_changes_nothing(run_playbook, task_hosts):
    """Before any deploy: site.yml deploys app_version, which a rollback leaves behind. The run finds every
    package installed from the package facts read at most once per host (no apt run), checks each role's inputs
    at most once per host (the preflight, unless they passed there before; the roles skip their own checks), and
    the web tier's nginx served HTTPS in its first pass (no second one), and the roles' host setups were as
    recorded."""
    result = run_playbook(SITE)
    assert result.returncode == 0, result.stdout[-3000:]
    recap = dict(
        re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", result.stdout.partition("PLAY RECAP")[2], re.MULTILINE)
    )
    assert recap == dict.fromkeys(ALL, "0"), result.stdout[-5000:]
    # A role whose setup runs reads the installed packages for its apt task, once per host and run: the first one.
    reads = [host for status, host in task_hosts(result.stdout, "Read the installed packages") if status == "ok"]
    assert len(reads) == len(set(reads)), reads
    # An apt task that shows is skipped; a role whose whole setup was skipped (below) lists none of its tasks.
    apt_runs = {title: task_hosts(result.stdout, title) for title in role_task_titles("*.yml", "ansible.builtin.apt")}
    assert not task_hosts(
        result.stdout, "postgresql : Install PostgreSQL and the Python libraries of the postgresql and crypto modules"
    )
    assert [run for runs in apt_runs.values() for run in runs if run[0] != "skipping"] == [], apt_runs
    # A host that ran a role's input check twice: once in the preflight, once in the role.
    blocks = re.split(r"^TASK \[", result.stdout, flags=re.MULTILINE)[1:]
    ran: dict[str, list[str]] = {}
    for title in role_task_titles("validate.yml"):
        for block in blocks:
            name, _, body = block.partition("]")
            if name == title:
                ran.setdefault(title, []).extend(
                    set(re.findall(r"^(?:ok|changed|fatal): \[([^\]]+)\]", body, re.MULTILINE))
                )
    # The preflight skips the checks on a host whose inputs passed them before (app_check_inputs: changed).
    assert {name for names in ran.values() for name in names} <= set(ALL), ran
    assert {title: names for title, names in ran.items() if len(names) != len(set(names))} == {}, ran
    assert task_hosts(result.stdout, "Render HTTPS now that the certificate exists") == [("skipping", WEB)]
    # The roles' host setups are as recorded (app_site_setup: verified): each role read their state, skipped them.
    setups = dict.fromkeys(("app_code", "python_venv", "django", "gunicorn"), APPS)
    setups.update(firewall=ALL, nginx=(WEB,), letsencrypt=(WEB,), postgresql=(DB,))
    for role, hosts in setups.items():
        title = f"Report a setup skipped because it would be the same ({role}_setup=changed or verified)"
        assert sorted(task_hosts(result.stdout, title)) == sorted(("ok", name) for name in hosts), title


def push_commit(message: str, script: str) -> str:
    """A new commit of the example project, pushed to app1's repository and, as a bundle, to the others'."""
    sha = out(
        APP1,
        f"set -e; cd /srv/src/notes && {script} && git add -A && "
        f"git -c user.name=ci -c user.email=ci@site.test commit -qm {shlex.quote(message)} && "
        "git push -q origin main && git rev-parse HEAD && git bundle create -q /tmp/push.bundle main",
    ).split()[0]
    bundle = subprocess.run(["podman", "exec", APP1, "cat", "/tmp/push.bundle"], capture_output=True, check=True).stdout
    for name in APPS[1:]:
        subprocess.run(["podman", "exec", "-i", name, "sh", "-c", "cat > /tmp/push.bundle"], input=bundle, check=True)
        out(name, "git -C /srv/git/notes.git fetch -q /tmp/push.bundle main:main")
    return sha


REQUEST_LOOP = f"""
end=$((SECONDS + 300)); n=0
while [ ! -e /tmp/loop.stop ] && [ $n -lt 2000 ] && [ $SECONDS -lt $end ]; do
  n=$((n + 1))
  curl -s -o /dev/null -w '%{{http_code}}\\n' --max-time 10 --cacert {CA} {BASE}/ >> /tmp/loop.codes
  sleep 0.1
done
touch /tmp/loop.done
"""


def start_request_loop() -> None:
    """A bounded request loop through web1 (at most 2000 requests or 300 s), started on the client."""
    subprocess.run(
        ["podman", "exec", "-i", CLIENT, "sh", "-c", "cat > /tmp/loop.sh"], input=REQUEST_LOOP, text=True, check=True
    )
    out(
        CLIENT,
        "rm -f /tmp/loop.codes /tmp/loop.stop /tmp/loop.done; setsid -f bash /tmp/loop.sh >/dev/null 2>&1 </dev/null",
    )


def stop_request_loop() -> list[str]:
    out(CLIENT, "touch /tmp/loop.stop; for i in $(seq 100); do [ -e /tmp/loop.done ] && break; sleep 0.2; done")
    return out(CLIENT, "cat /tmp/loop.codes").split()


def test_rolling_deploy_one_app_host_at_a_time_migrates_once_and_drops_nothing(uploads, run_playbook, task_hosts):
    before = {name: revision(name) for name in APPS}
    assert len(set(before.values())) == 1
    migration = (
        "cat > example/notes/migrations/0002_cluster_marker.py <<'EOF'\n"
        "from django.db import migrations\n\n\n"
        "class Migration(migrations.Migration):\n"
        '    dependencies = [("notes", "0001_initial")]\n'
        "    operations = [\n"
        "        migrations.RunSQL('CREATE TABLE cluster_marker (id integer)', 'DROP TABLE cluster_marker'),\n"
        "    ]\n"
        "EOF\n"
        "echo '/* deployed by the cluster scenario */' >> example/notes/static/notes/site.css"
    )
    new_sha = push_commit("Second release, with a migration", migration)
    start_request_loop()
    result = run_playbook(DEPLOY)
    codes = stop_request_loop()
    assert result.returncode == 0, result.stdout[-3000:]

    # One batch per app host, app1 first: app2 is still on the old release while app1 switches.
    activations = task_hosts(result.stdout, "app_code : Switch current to the release")
    assert activations == [("changed", APP1), ("changed", APP2)], activations
    starts = [m.start() for m in re.finditer(r"^PLAY \[App tier", result.stdout, re.MULTILINE)]
    assert len(starts) == 2, "one play batch per app host"
    first_batch = result.stdout[starts[0] : starts[1]]
    assert f"[{APP2}]" not in first_batch
    # The migration ran once, on the first app host; the second found nothing to apply.
    assert task_hosts(result.stdout, "django : Apply the migrations") == [("changed", APP1), ("skipping", APP2)]
    assert out(DB, "runuser -u postgres -- psql -XAtq -d notes -c \"SELECT to_regclass('cluster_marker')\"").strip()

    assert {name: revision(name) for name in APPS} == {APP1: new_sha, APP2: new_sha}
    assert len(codes) > 20
    assert set(codes) == {"200"}, f"{len(codes) - codes.count('200')} of {len(codes)} requests failed"
    status, _, body = get("/healthz")
    assert status == 200
    assert json.loads(body)["git_sha"] == new_sha
    for note, text, _ in uploads:
        assert get(note["media_url"])[::2] == (200, text)


def test_one_app_host_down_the_site_keeps_answering():
    out(APP2, f"systemctl stop notes.socket {UNIT}")
    try:
        since = log_marks()
        codes = [get("/")[0] for _ in range(12)]
        assert codes == [200] * 12
        assert access_log(APP1, since).count("GET /") == 12
    finally:
        out(APP2, f"systemctl start notes.socket {UNIT}")


def test_rollback_returns_every_app_host_to_the_same_previous_release(uploads, run_playbook):
    deployed = {name: release_sha(name) for name in APPS}
    previous = {name: release_sha(name, "previous") for name in APPS}
    assert len(set(previous.values())) == 1
    result = run_playbook(ROLLBACK)
    assert result.returncode == 0, result.stdout[-3000:]
    assert {name: release_sha(name) for name in APPS} == previous != deployed
    sha = revision(APP1)
    assert revision(APP2) == sha
    status, _, body = get("/healthz")
    assert status == 200
    assert json.loads(body)["git_sha"] == sha
    for note, text, _ in uploads:
        assert get(note["media_url"])[::2] == (200, text)


def test_a_deploy_in_one_batch_activates_both_app_hosts_and_drops_nothing(run_playbook, task_hosts):
    """app_deploy_serial 100 %, the default of a split: both app hosts in one batch. Both collect the static
    files into the STATIC_ROOT they share (over sshfs from web1; the django role runs collectstatic one host at
    a time), and web1 serves the new file."""
    new_sha = push_commit(
        "A release deployed in one batch",
        "echo '/* deployed in one batch */' >> example/notes/static/notes/site.css && "
        "echo 'one batch' > example/notes/static/notes/batch.txt",
    )
    start_request_loop()
    result = run_playbook(DEPLOY, {"app_deploy_serial": "100%"})
    codes = stop_request_loop()
    assert result.returncode == 0, result.stdout[-3000:]

    assert len(re.findall(r"^PLAY \[App tier", result.stdout, re.MULTILINE)) == 1, "one batch"
    collected = task_hosts(result.stdout, "django : Collect the static files")
    assert sorted(name for _, name in collected) == sorted(APPS), collected
    assert {status for status, _ in collected} <= {"ok", "changed"}, collected
    assert sorted(task_hosts(result.stdout, "app_code : Switch current to the release")) == [
        ("changed", APP1),
        ("changed", APP2),
    ]
    assert {name: revision(name) for name in APPS} == {APP1: new_sha, APP2: new_sha}
    assert get("/static/notes/batch.txt")[::2] == (200, "one batch\n")
    assert len(codes) > 20
    assert set(codes) == {"200"}, f"{len(codes) - codes.count('200')} of {len(codes)} requests failed"


# What a client sees: "open", "refused" (the port got the packet, nothing listens) or "dropped".
CONNECT = """
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()
    print("open")
except ConnectionRefusedError:
    print("refused")
except (TimeoutError, socket.timeout):
    print("dropped")
"""


def connect(source: str, target: str, port: int) -> str:
    return out(source, f"python3 -c {shlex.quote(CONNECT)} {address(target)} {port}").strip()


def test_postgresql_lets_the_app_hosts_in_and_nobody_else():
    login = f"PGPASSWORD={DB_PASSWORD} PGCONNECT_TIMEOUT=3 psql -XAtq -h {address(DB)} -U notes -d notes -c 'SELECT 1'"
    for name in APPS:
        assert out(name, login).strip() == "1"
    refused = sh(WEB, login, check=False)
    assert refused.returncode != 0
    assert connect(WEB, DB, 5432) == "dropped"


def test_the_app_hosts_reach_postgresql_over_verified_tls():
    for name in APPS:
        url = out(name, "grep ^DATABASE_URL= /etc/notes/env").strip()
        assert f"@{address(DB)}:5432/notes?sslmode=verify-full&sslrootcert=/etc/notes/" in url
    for _ in range(6):
        assert get("/")[0] == 200
    sessions = out(
        DB,
        "runuser -u postgres -- psql -XAtq -d notes -c \"SELECT DISTINCT host(a.client_addr) || ' ' || s.ssl"
        " FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.usename = 'notes'"
        ' AND a.client_addr IS NOT NULL"',
    ).split("\n")
    assert {line for line in sessions if line} == {f"{address(name)} true" for name in APPS}
    # Without TLS, an app host is refused, with the right password.
    plain = sh(
        APP1,
        f"PGPASSWORD={DB_PASSWORD} psql 'sslmode=disable host={address(DB)} user=notes dbname=notes' -c 'SELECT 1'",
        check=False,
    )
    assert plain.returncode != 0
    assert "no encryption" in plain.stderr


def test_a_split_without_a_shared_secret_key_is_refused_before_any_change(run_playbook):
    before = {name: release_sha(name) for name in APPS}
    result = run_playbook(DEPLOY, {"app_secret_key": ""})
    assert result.returncode != 0
    assert "app_secret_key is required with several app hosts (2 in appservers)" in result.stdout
    assert "PLAY [App tier" not in result.stdout
    assert {name: release_sha(name) for name in APPS} == before


def test_gunicorn_takes_the_web_host_only():
    for name in APPS:
        assert connect(WEB, name, 8000) == "open"
        assert connect(DB, name, 8000) == "dropped"
        assert connect(APP1 if name == APP2 else APP2, name, 8000) == "dropped"


def test_nothing_else_listens_beyond_loopback():
    expected = {DB: {22, 5432}, APP1: {22, 8000}, APP2: {22, 8000}, WEB: {22, 80, 443}}
    for name in ALL:
        listening = set()
        for line in out(name, "ss -Hltn").splitlines():
            local = line.split()[3]
            host, _, port = local.rpartition(":")
            if host.strip("[]") not in ("127.0.0.1", "::1") and not host.startswith("127."):
                listening.add(int(port))
        assert listening == expected[name], name
    # The firewall agrees: from the client, only what belongs to each host is reachable.
    assert connect(CLIENT, WEB, 443) == "open"
    assert connect(CLIENT, APP1, 22) == "open"
    assert connect(CLIENT, WEB, 15000) == "dropped"


# --- backups over SFTP: a database-only undo, and a fresh database host -----------------------------

BACKUP, RESTORE = "../../playbooks/backup.yml", "../../playbooks/restore.yml"
TARGET = APP2  # the SFTP server (user restic, SFTP only)


def snapshots(name: str) -> list[dict]:
    """The snapshots of the backup notes in the repository of `name`, oldest first."""
    return sorted(json.loads(out(name, "djangoops-backup notes restic snapshots --json")), key=lambda s: s["time"])


def notes_count() -> int:
    return int(out(DB, "runuser -u postgres -- psql -d notes -XAtc 'SELECT count(*) FROM notes_note'"))


def test_backup_saves_the_database_on_db1_and_the_uploads_on_web1_over_sftp(uploads, run_playbook):
    result = run_playbook(BACKUP)
    assert result.returncode == 0, result.stdout[-3000:]
    for name, paths in [(DB, ["/var/lib/notes-backup/dump"]), (WEB, ["/srv/notes/shared/media"])]:
        latest = snapshots(name)[-1]
        assert latest["paths"] == paths, name
        assert f"snapshot {latest['id']} saved" in result.stdout
        # The repository is on app2 only, the backup user's on the host, restic's on the target.
        assert out(TARGET, f"stat -c %U /srv/restic/{name}/config").strip() == "restic"
        assert sh(name, "test -e /var/backups/restic", check=False).returncode != 0, name
    listing = out(WEB, "djangoops-backup notes restic ls latest")
    for note, _, _ in uploads:
        assert "/srv/notes/shared" + note["media_url"] in listing


def test_a_snapshot_of_the_database_restores_the_database_and_keeps_the_uploads(run_playbook):
    """A snapshot is one host's, as the one before a deploy's migrations is db1's: web1 keeps its files."""
    snapshot = snapshots(DB)[-1]["id"]
    count = notes_count()
    note = upload("made after the snapshot")
    assert notes_count() == count + 1

    result = run_playbook(RESTORE, {"app_restore_confirm": True, "app_restore_snapshot": snapshot[:12]})
    assert result.returncode == 0, result.stdout[-3000:]
    assert f"Restored snapshot {snapshot}" in result.stdout
    assert f"cluster-web1 has no snapshot {snapshot[:12]} of notes: its uploads stay as they are." in " ".join(
        result.stdout.split()
    )
    assert notes_count() == count
    assert get(note["media_url"])[::2] == (200, "made after the snapshot")
    assert get("/")[0] == 200


def test_a_fresh_database_host_gets_the_data_back_with_site_then_restore(uploads, run_playbook):
    result = run_playbook(BACKUP)
    assert result.returncode == 0, result.stdout[-3000:]
    count = notes_count()
    assert count >= len(uploads)
    # db1 as a new machine: no PostgreSQL, no restic, no backup settings; the repository on app2 is all there is.
    out(
        DB,
        "set -e; systemctl stop postgresql notes-backup.timer; "
        "DEBIAN_FRONTEND=noninteractive apt-get purge -qq -y restic postgresql postgresql-common "
        "$(dpkg-query -W -f '${Package}\\n' 'postgresql-[0-9]*') >/dev/null; "
        "rm -rf /var/lib/postgresql /etc/postgresql /etc/notes-backup /var/lib/notes-backup /var/cache/notes-backup "
        "/etc/systemd/system/notes-backup* /etc/ansible/facts.d; userdel notes-backup; systemctl daemon-reload",
    )
    assert out(DB, "ss -Hltn 'sport = :5432'").strip() == ""

    result = run_playbook(SITE)
    assert result.returncode == 0, result.stdout[-3000:]
    assert notes_count() == 0  # migrated, empty

    result = run_playbook(RESTORE, {"app_restore_confirm": True})
    assert result.returncode == 0, result.stdout[-3000:]
    assert notes_count() == count
    for note, text, _ in uploads:
        assert get(note["media_url"])[::2] == (200, text)
    # The app hosts reach the new PostgreSQL over verified TLS, and the site answers.
    assert get("/")[0] == 200
    assert out(DB, "systemctl is-active notes-backup.timer").strip() == "active"
