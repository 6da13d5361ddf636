"""The whole site as its users see it: HTTPS pages, the admin's static files, a login and an upload,
the health endpoint, then a deploy of a new commit and a rollback. Tests run in file order."""

import json
import shlex
from pathlib import Path

import pytest

BASE = "https://site.test"
APP = "notes"
ADMIN_USER, ADMIN_PASSWORD = "admin", "site-scenario-admin-password"
CA = "/tmp/pebble-root.pem"
UPLOAD_NAME, UPLOAD_TEXT = "report.txt", "uploaded before the deploy"


@pytest.fixture(scope="module", autouse=True)
def pebble_root(host):
    """Pebble's root certificate: the served chain must verify against it."""
    host.check_output(f"curl -sS --fail --cacert /etc/pebble/cert.pem -o {CA} https://localhost:15000/roots/0")


def get(host, path: str, *curl_args: str) -> tuple[int, dict[str, str], str]:
    """GET over HTTPS, verifying the certificate; returns status, lower-cased headers and body."""
    args = " ".join(shlex.quote(a) for a in ["--cacert", CA, *curl_args, BASE + path])
    out = host.check_output(
        f"curl -sS -D /tmp/headers -o /tmp/body {args} && cat /tmp/headers && echo ==BODY== && cat /tmp/body"
    )
    head, _, body = out.partition("==BODY==")
    lines = [line.strip() for line in head.strip().splitlines()]
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:]) if v}
    return status, headers, body.lstrip("\n")


REQUEST_LOOP = f"""
end=$((SECONDS + 240)); n=0
while [ ! -e /tmp/loop.stop ] && [ $n -lt 1500 ] && [ $SECONDS -lt $end ]; do
  n=$((n + 1))
  curl -s -o /dev/null -w '%{{http_code}}\\n' --max-time 10 --cacert {CA} {BASE}/healthz >> /tmp/loop.codes
  sleep 0.1
done
touch /tmp/loop.done
"""


def health(host) -> dict:
    status, _, body = get(host, "/healthz")
    assert status == 200, body
    return json.loads(body)


def current_sha(host) -> str:
    return host.file(f"/srv/{APP}/current/REVISION").content_string.strip()


def test_home_page_over_https(host):
    status, headers, body = get(host, "/")
    assert status == 200
    assert "strict-transport-security" in headers
    assert "<html" in body.lower()


def test_http_redirects_to_https(host):
    out = host.check_output("curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' http://site.test/")
    assert out == "301 https://site.test/"


def test_admin_login_page_css_is_hashed_and_immutable(host):
    status, _, body = get(host, "/admin/login/")
    assert status == 200
    css = [href for href in body.split('"') if href.startswith("/static/admin/css/base.") and href.endswith(".css")]
    assert css, "the admin login page links no hashed base.css"
    status, headers, content = get(host, css[0])
    assert status == 200
    assert "immutable" in headers["cache-control"]
    assert "body" in content


def test_healthz_reports_the_deployed_sha(host):
    assert health(host) == {"status": "ok", "database": "ok", "git_sha": current_sha(host)}


def test_check_deploy_is_clean(host):
    cmd = host.run(
        "runuser -u %s -- bash -c 'set -a; . /etc/%s/env; set +a; cd /srv/%s/current/example && "
        "../.venv/bin/python manage.py check --deploy --fail-level WARNING'",
        APP,
        APP,
        APP,
    )
    assert cmd.rc == 0, cmd.stdout + cmd.stderr
    assert "System check identified no issues" in cmd.stdout


@pytest.fixture(scope="module")
def upload(host) -> dict:
    """Log in as the admin and create a note with an uploaded file, through the site's forms."""
    script = (Path(__file__).parent / "browser.py").read_text()
    host.check_output(f"cat > /tmp/browser.py <<'EOF'\n{script}\nEOF")
    out = host.check_output(
        "python3 /tmp/browser.py %s %s %s %s %s %s",
        BASE,
        CA,
        ADMIN_USER,
        ADMIN_PASSWORD,
        UPLOAD_NAME,
        UPLOAD_TEXT,
    )
    return json.loads(out)


def test_login_and_upload_then_fetch_the_file_from_media(host, upload):
    assert upload["media_url"].startswith("/media/notes/")
    status, headers, body = get(host, upload["media_url"])
    assert status == 200
    assert body == UPLOAD_TEXT
    assert headers["x-content-type-options"] == "nosniff"


def test_deploy_a_new_commit_without_dropping_requests(host, upload, run_playbook):
    before = current_sha(host)
    new_sha = host.check_output(
        "cd /srv/src/notes && echo '/* deployed by the site scenario */' >> example/notes/static/notes/site.css && "
        "git -c user.name=ci -c user.email=ci@site.test commit -qam 'Second release' && "
        "git push -q origin main && git rev-parse HEAD"
    )
    # A bounded request loop runs across the deploy: at most 1500 requests or 240 s.
    host.check_output(f"cat > /tmp/loop.sh <<'EOF'\n{REQUEST_LOOP}\nEOF")
    host.check_output(
        "rm -f /tmp/loop.codes /tmp/loop.stop /tmp/loop.done; setsid -f bash /tmp/loop.sh >/dev/null 2>&1 </dev/null"
    )
    result = run_playbook("../../playbooks/deploy.yml", limit=host.backend.name)
    host.check_output("touch /tmp/loop.stop; for i in $(seq 50); do [ -e /tmp/loop.done ] && break; sleep 0.2; done")
    assert result.returncode == 0, result.stdout[-3000:]

    assert current_sha(host) == new_sha != before
    assert health(host)["git_sha"] == new_sha
    codes = host.file("/tmp/loop.codes").content_string.split()
    assert len(codes) > 10
    assert set(codes) == {"200"}, f"{len(codes) - codes.count('200')} of {len(codes)} requests failed"
    status, _, body = get(host, upload["media_url"])
    assert (status, body) == (200, UPLOAD_TEXT)


def test_rollback_returns_to_the_previous_sha(host, upload, run_playbook):
    deployed = current_sha(host)
    result = run_playbook("../../playbooks/rollback.yml", limit=host.backend.name)
    assert result.returncode == 0, result.stdout[-3000:]
    rolled_back = current_sha(host)
    assert rolled_back != deployed
    assert health(host)["git_sha"] == rolled_back
    status, _, body = get(host, upload["media_url"])
    assert (status, body) == (200, UPLOAD_TEXT)
