"""Deploys that fail while the site serves traffic, and the good deploy that follows each of them.

converge.yml ran site.yml with the first commit of /srv/git/notes.git (idempotence ran it again).
Each test below pushes a commit that breaks a deploy in one way, runs playbooks/deploy.yml with a
bounded request loop going through nginx, and checks what an operator would: the deploy failed
saying why, the site kept answering 200 with the release it served before, nothing half-made is
left on disk, and the next commit (a fix) deploys and is served. Tests run in file order.
"""

import json
import os
import shlex
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

BASE = "https://site.test"
APP = "notes"
ROOT = f"/srv/{APP}"
SRC = "/srv/src/notes"
# The self-signed certificate nginx serves (app_tls: self-signed); curl trusts it as its own anchor.
CA = f"/etc/ssl/sites/{APP}/fullchain.pem"
DEPLOY = "../../playbooks/deploy.yml"
# python_venv marks a virtualenv complete with this file, written last.
VENV_MARKER = ".python_venv_complete"
GIT = "git -c user.name=ci -c user.email=ci@site.test"

# At most LOOP_MAX requests or LOOP_SECONDS seconds, or until the stop file exists; one line per request.
LOOP_MAX, LOOP_SECONDS = 600, 120
REQUEST_LOOP = f"""
codes=$1; shift
end=$((SECONDS + {LOOP_SECONDS})); n=0
while [ ! -e "$codes.stop" ] && [ $n -lt {LOOP_MAX} ] && [ $SECONDS -lt $end ]; do
  for path in "$@"; do
    n=$((n + 1))
    code=$(curl -s -o /dev/null -w '%{{http_code}}' --max-time 10 --cacert {CA} "{BASE}$path")
    echo "$path $code" >> "$codes"
  done
  sleep 0.2
done
touch "$codes.done"
"""


@pytest.fixture(scope="module", autouse=True)
def loop_script(host):
    host.check_output(f"cat > /tmp/loop.sh <<'EOF'\n{REQUEST_LOOP}\nEOF")


@contextmanager
def request_loop(host, paths: tuple[str, ...] = ("/", "/healthz")):
    """Requests through nginx while the body runs; yields the list of 'path code' lines, filled at exit."""
    codes_file = "/tmp/loop.codes"
    host.check_output(f"rm -f {codes_file} {codes_file}.stop {codes_file}.done")
    host.check_output(
        f"setsid -f bash /tmp/loop.sh {codes_file} {' '.join(paths)} >/dev/null 2>&1 </dev/null",
    )
    lines: list[str] = []
    try:
        yield lines
    finally:
        host.check_output(
            f"touch {codes_file}.stop; for i in $(seq 100); do [ -e {codes_file}.done ] && break; sleep 0.2; done"
        )
        lines.extend(host.file(codes_file).content_string.splitlines())


def assert_all_served(lines: list[str]) -> None:
    failed = [line for line in lines if not line.endswith(" 200")]
    assert len(lines) > 20, f"the request loop made only {len(lines)} requests"
    assert not failed, f"{len(failed)} of {len(lines)} requests failed: {failed[:10]}"


def push(host, message: str, change: str) -> str:
    """Run `change` (shell) in the source tree, commit everything, push to the bare repository; the new sha."""
    # One command per line: `change` may end with a here-document.
    return host.check_output(
        f"set -e\ncd {SRC}\n{change}\ngit add -A\n{GIT} commit -qm {shlex.quote(message)}\n"
        "git push -q origin main\ngit rev-parse HEAD"
    )


def revert(host) -> str:
    """A commit that undoes the last one, pushed; its sha."""
    return host.check_output(
        f"cd {SRC} && {GIT} revert --no-edit HEAD >/dev/null && git push -q origin main && git rev-parse HEAD"
    )


def deploy(run_playbook, host) -> subprocess.CompletedProcess:
    return run_playbook(DEPLOY, limit=host.backend.name)


def served(host) -> tuple[str, str]:
    """The sha in current/REVISION and the one /healthz reports through nginx."""
    revision = host.file(f"{ROOT}/current/REVISION").content_string.strip()
    body = host.check_output(f"curl -sS --fail --max-time 10 --cacert {CA} {BASE}/healthz")
    return revision, json.loads(body)["git_sha"]


def releases(host) -> dict[str, str]:
    """Every directory under releases/ (hidden ones too): its REVISION ('' when it has none)."""
    out = host.check_output(
        f'cd {ROOT}/releases && for d in $(ls -A); do echo "$d $(cat $d/REVISION 2>/dev/null)"; done'
    )
    return {name: sha for name, _, sha in (line.partition(" ") for line in out.splitlines())}


def assert_nothing_half_made(host, failed_sha: str) -> None:
    """No temporary release, no release of the failed commit unless it is current, no incomplete venv."""
    current = host.check_output(f"readlink {ROOT}/current").removeprefix("releases/")
    found = releases(host)
    assert [name for name in found if name.startswith(".")] == [], found
    assert [name for name, sha in found.items() if sha == failed_sha and name != current] == [], found
    assert all(sha for sha in found.values()), f"a release without REVISION: {found}"
    incomplete = host.check_output(
        f"cd {ROOT}/venvs && for d in $(ls); do [ -e $d/{VENV_MARKER} ] || echo $d; done"
    ).split()
    assert incomplete == [], f"virtualenvs without {VENV_MARKER}: {incomplete}"
    # Every release's .venv points at a complete virtualenv.
    broken = host.check_output(
        f"cd {ROOT}/releases && for d in *; do [ -e $d/.venv/{VENV_MARKER} ] || echo $d; done"
    ).split()
    assert broken == [], f"releases whose .venv is not a complete virtualenv: {broken}"


def assert_failed(result: subprocess.CompletedProcess, *messages: str) -> None:
    assert result.returncode != 0, result.stdout[-3000:]
    for message in messages:
        assert message in result.stdout, f"{message!r} not in the output:\n{result.stdout[-4000:]}"


def fix_and_deploy(host, run_playbook) -> str:
    """Revert the breaking commit, deploy: the fix is served."""
    fixed = revert(host)
    result = deploy(run_playbook, host)
    assert result.returncode == 0, result.stdout[-4000:]
    assert served(host) == (fixed, fixed)
    assert_nothing_half_made(host, fixed)
    return fixed


def links(host) -> tuple[str, str]:
    """Where current and previous point ("" for a link that does not exist: no previous before a second deploy)."""
    return tuple(host.run(f"readlink {ROOT}/{name}").stdout.strip() for name in ("current", "previous"))


def fail_then_fix(host, run_playbook, message: str, change: str, *expected: str, paths=("/", "/healthz")):
    """Push a breaking commit and deploy it under a request loop: it fails, nothing changes; then the fix deploys."""
    before, links_before = served(host), links(host)
    assert before[0] == before[1]
    bad = push(host, message, change)
    try:
        with request_loop(host, paths) as lines:
            result = deploy(run_playbook, host)
        assert_failed(result, *expected)
        assert served(host) == before
        # current and previous point where they did (a rollback restores both).
        assert links(host) == links_before
        assert_nothing_half_made(host, bad)
        assert_all_served(lines)
    except AssertionError:
        # The next test starts from a working site all the same.
        revert(host)
        deploy(run_playbook, host)
        raise
    fix_and_deploy(host, run_playbook)


MIGRATION = """
from django.db import migrations


def fail(apps, schema_editor):
    raise RuntimeError("the failures scenario's migration raises")


class Migration(migrations.Migration):
    dependencies = [("notes", "0001_initial")]
    operations = [migrations.RunPython(fail, migrations.RunPython.noop)]
"""


def applied_migrations(host) -> str:
    """How many migrations of the notes app django_migrations records as applied."""
    return host.check_output(
        f"runuser -u postgres -- psql -tAd {APP} -c \"select count(*) from django_migrations where app = 'notes'\""
    )


def test_a_migration_that_raises(host, run_playbook):
    change = f"cat > example/notes/migrations/0002_raise.py <<'EOF'\n{MIGRATION}\nEOF"
    fail_then_fix(
        host,
        run_playbook,
        "A migration that raises",
        change,
        "was not activated",
        '"django : Apply the migrations" failed',
        "RuntimeError: the failures scenario's migration raises",
    )
    # The migration was not recorded as applied (PostgreSQL rolled it back).
    assert applied_migrations(host) == "1"


SIBLING_MIGRATION = """
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("notes", "0001_initial")]
    operations = [migrations.RunSQL("SELECT 1", migrations.RunSQL.noop)]
"""


def test_two_migrations_that_conflict(host, run_playbook):
    """Two branches each added a migration after 0001 and were merged without `makemigrations --merge`:
    the release's checks stop the deploy before anything migrates, with Django's own advice."""
    change = "\n".join(
        f"cat > example/notes/migrations/0002_{side}.py <<'EOF'\n{SIBLING_MIGRATION}\nEOF" for side in ("left", "right")
    )
    fail_then_fix(
        host,
        run_playbook,
        "Two migrations that conflict",
        change,
        "was not activated",
        '"django : Run Django\'s deployment checks, import the WSGI application, look for unapplied migrations" failed',
        "Conflicting migrations detected",
        "0002_left",
        "0002_right",
        "makemigrations --merge",
    )
    assert applied_migrations(host) == "1"


def test_an_import_error_in_the_project(host, run_playbook):
    change = "sed -i '1a import notes.no_such_module  # noqa: F401' example/mysite/urls.py"
    fail_then_fix(
        host,
        run_playbook,
        "urls.py imports a module that does not exist",
        change,
        '"django : ',
        "No module named 'notes.no_such_module'",
    )


def test_a_release_whose_health_check_fails_is_rolled_back(host, run_playbook):
    # / keeps working in the broken release: only the health endpoint fails (the loop asks / only).
    # git commit fails when sed changed nothing.
    change = (
        "sed -i 's/^    return JsonResponse(body)$/    return JsonResponse(body, status=500)/' example/mysite/health.py"
    )
    fail_then_fix(
        host,
        run_playbook,
        "The health endpoint answers 500",
        change,
        "failed its health check (rolled back to ",
        "Status code was 500",
        paths=("/",),
    )


def test_a_requirement_that_does_not_exist(host, run_playbook):
    change = "echo 'djangoops-no-such-package==1.0' >> example/requirements.txt"
    fail_then_fix(
        host,
        run_playbook,
        "A requirement that does not exist",
        change,
        '"python_venv : ',
        "No matching distribution found for djangoops-no-such-package",
    )


def test_collectstatic_refuses_a_missing_url(host, run_playbook):
    change = "echo '.broken { background: url(\"no-such-image.png\"); }' >> example/notes/static/notes/site.css"
    fail_then_fix(
        host,
        run_playbook,
        "CSS that refers to a missing file",
        change,
        '"django : Collect the static files" failed',
        "The file 'notes/no-such-image.png' could not be found",
    )


def popen_deploy(host) -> subprocess.Popen:
    """deploy.yml as run_playbook runs it, but in its own process group and without waiting."""
    scenario = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"])
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    env.setdefault("ANSIBLE_ROLES_PATH", str(scenario.parent.parent / "roles"))
    cmd = [
        "ansible-playbook",
        "-i",
        os.environ["MOLECULE_INVENTORY_FILE"],
        str(scenario / DEPLOY),
        "--limit",
        host.backend.name,
    ]
    return subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )


def kill_deploy_at(host, marker: str) -> str:
    """Start a deploy, SIGKILL its whole process group when a line containing `marker` appears; its output."""
    process = popen_deploy(host)
    output = []
    deadline = time.monotonic() + 600
    try:
        for line in process.stdout:
            output.append(line)
            if marker in line or time.monotonic() > deadline:
                break
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    text = "".join(output)
    assert marker in text, f"the deploy ended before {marker!r}:\n{text[-3000:]}"
    return text


def test_a_deploy_killed_before_activation_is_finished_by_the_next_run(host, run_playbook):
    before = served(host)
    # New requirements (a comment changes their hash): the first run builds a new virtualenv.
    new = push(
        host, "Requirements file changed", "echo '# deployed by the failures scenario' >> example/requirements.txt"
    )
    with request_loop(host) as lines:
        # Killed while pip fills the new virtualenv, then once the release is ready but not yet current.
        kill_deploy_at(host, "TASK [djangoops.django.python_venv : Install the requirements into the virtualenv]")
        assert served(host) == before
        kill_deploy_at(host, "TASK [Activate the release]")
        assert served(host) == before
    assert_all_served(lines)
    with request_loop(host) as lines:
        result = deploy(run_playbook, host)
    assert result.returncode == 0, result.stdout[-4000:]
    assert served(host) == (new, new)
    assert_nothing_half_made(host, new)
    assert_all_served(lines)


def test_a_full_disk_during_a_deploy(host, run_playbook):
    before = served(host)
    # Another requirements file: the deploy needs a new virtualenv, about 80 MB; 40 MB are left.
    bad = push(host, "Requirements file changed again", "echo '# and changed again' >> example/requirements.txt")
    host.check_output("fallocate -l $(( $(df --output=avail -B1 /srv | tail -1) - 40 * 1024 * 1024 )) /srv/fill")
    try:
        with request_loop(host) as lines:
            result = deploy(run_playbook, host)
    finally:
        host.check_output("rm -f /srv/fill")
    assert_failed(result, "No space left on device")
    assert served(host) == before
    assert_nothing_half_made(host, bad)
    assert_all_served(lines)
    # The same commit deploys once there is room again.
    result = deploy(run_playbook, host)
    assert result.returncode == 0, result.stdout[-4000:]
    assert served(host) == (bad, bad)
    assert_nothing_half_made(host, bad)
