"""A Django project the roles were not written for, deployed by site.yml as its authors wrote it.

Shared by the project_* scenarios; SCENARIO_PROJECT names the fixture (tests/fixtures/projects/<name>).
Everything is asked over HTTPS through nginx with Pebble's root, as a visitor would, plus what an
operator checks on the host. test_browser.py drives a real Chromium through the same site.
"""

import json
import re
import shlex

from project import APP, BASE, CA, FIXTURE, PROJECT


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


def manage(host, *args: str):
    """manage.py in the live release, as the app user, with the environment file: as an operator runs it."""
    release = f"/srv/{APP}/current"
    project = f"{release}/{PROJECT['project_dir']}".rstrip("/")
    inner = f'set -a; . /etc/{APP}/env; set +a; cd {project} && exec {release}/.venv/bin/python manage.py "$@"'
    quoted = " ".join(shlex.quote(arg) for arg in args)
    return host.run(f"runuser -u {APP} -- sh -c {shlex.quote(inner)} sh {quoted}")


def test_the_release_holds_the_project_as_committed(host):
    """Not one file of the project was edited for the deploy: its settings are the fixture's, byte for byte."""
    for relative in PROJECT["unedited"]:
        deployed = host.file(f"/srv/{APP}/current/{relative}").content_string
        assert deployed == (FIXTURE / relative).read_text(), relative


def test_check_deploy_finds_nothing(host):
    result = manage(host, "check", "--deploy", "--fail-level", "WARNING")
    assert result.rc == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_debug_is_off_a_404_is_the_production_page(host):
    status, _, body = get(host, "/no-such-page/")
    assert status == 404
    assert "<h1>Not Found</h1>" in body
    # DEBUG's page lists the URLconf and the settings.
    assert "URLconf" not in body
    assert "DEBUG = True" not in body


def test_the_health_endpoint_reports_the_deployed_sha(host):
    status, _, body = get(host, "/healthz")
    assert status == 200, body
    sha = host.file(f"/srv/{APP}/current/REVISION").content_string.strip()
    assert json.loads(body) == {"status": "ok", "database": "ok", "git_sha": sha}


def test_hashed_admin_css_is_served_by_nginx_from_shared_static(host):
    status, _, body = get(host, "/admin/login/")
    assert status == 200
    css = re.search(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', body)
    assert css, "the admin login page links no hashed base.css"
    status, headers, _ = get(host, css.group(1))
    assert status == 200
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert headers["content-type"].startswith("text/css")
    path = css.group(1).removeprefix("/static/")
    assert host.file(f"/srv/{APP}/shared/static/{path}").is_file
    # Nothing of the repository's own STATIC_ROOT: collectstatic wrote to shared/.
    assert not host.file(f"/srv/{APP}/current/{PROJECT['project_dir']}/staticfiles".replace("//", "/")).exists


def test_the_admin_login_form_works_over_https(host):
    """A login through nginx as a browser posts it: the CSRF cookie and token, the Origin header."""
    jar = "/tmp/admin.cookies"
    host.run(f"rm -f {jar}")
    status, _, body = get(host, "/admin/login/", "-c", jar)
    assert status == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
    form = {
        "csrfmiddlewaretoken": token,
        "username": PROJECT["admin"][0],
        "password": PROJECT["admin"][1],
        "next": "/admin/",
    }
    data = [arg for name, value in form.items() for arg in ("--data-urlencode", f"{name}={value}")]
    status, headers, _ = get(
        host,
        "/admin/login/",
        "-b",
        jar,
        "-c",
        jar,
        "-H",
        f"Origin: {BASE}",
        "-H",
        f"Referer: {BASE}/admin/login/",
        *data,
    )
    assert status == 302, "the login was refused (a 403 is a CSRF failure)"
    assert headers["location"] == "/admin/"
    status, _, body = get(host, "/admin/", "-b", jar)
    assert status == 200
    assert PROJECT["admin_model"] in body


def test_the_virtualenv_got_the_server_and_the_driver_the_requirements_lack(host):
    python = f"/srv/{APP}/current/.venv/bin/python"
    result = host.run(f"{python} -c 'import gunicorn, django; print(gunicorn.__version__)'")
    assert result.rc == 0, result.stderr
    assert host.service(f"{APP}.service").is_running


def test_a_deploy_of_the_same_commit_changes_nothing_and_names_what_it_added(host, run_playbook):
    result = run_playbook("../../playbooks/deploy.yml")
    assert result.returncode == 0, result.stdout[-3000:]
    assert re.search(r"changed=0 +unreachable=0 +failed=0", result.stdout), result.stdout[-3000:]
    for message in PROJECT["added"]:
        assert message in result.stdout


def users(host) -> list[str]:
    code = (
        "from django.contrib.auth import get_user_model; "
        "print(*sorted(get_user_model().objects.values_list('username', flat=True)))"
    )
    result = manage(host, "shell", "-c", code)
    assert result.rc == 0, result.stderr
    return result.stdout.split()


def test_backup_then_restore_takes_the_database_back_to_the_snapshot(host, run_playbook, unit_users):
    """PostgreSQL (startproject) or SQLite (srclayout): the dump by the database's user, restic by its own."""
    dump, dump_user = ("database.pgdump", "postgres") if PROJECT["db"] == "postgresql" else ("database.sqlite3", APP)
    result = run_playbook("../../playbooks/backup.yml")
    assert result.returncode == 0, result.stdout[-3000:]
    listing = host.check_output(f"djangoops-backup {APP} restic ls latest")
    assert f"/var/lib/{APP}-backup/dump/{dump}" in listing
    assert f"/srv/{APP}/shared/media/{PROJECT['upload_dir']}" in listing
    for unit, user in [(f"{APP}-backup-dump.service", dump_user), (f"{APP}-backup.service", f"{APP}-backup")]:
        assert unit_users(host, unit) == {user}, unit

    before = users(host)
    code = "from django.contrib.auth import get_user_model; get_user_model().objects.create(username='made-after')"
    created = manage(host, "shell", "-c", code)
    assert created.rc == 0, created.stderr
    assert "made-after" in users(host)

    result = run_playbook("../../playbooks/restore.yml", {"app_restore_confirm": True})
    assert result.returncode == 0, result.stdout[-3000:]
    assert users(host) == before
    assert get(host, "/healthz")[0] == 200
    if PROJECT["db"] == "sqlite":
        assert host.file(f"/srv/{APP}/shared/db/{APP}.sqlite3").user == APP
