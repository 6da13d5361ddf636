"""Backups of the whole site, as an operator proves a restore: data made through the site over HTTPS,
the timer's service, the database dropped and the uploads deleted, playbooks/restore.yml, and the data
back through HTTPS. Runs after test_site.py (file order), on the site it leaves."""

import json
import re
from pathlib import Path

import pytest

BASE = "https://site.test"
APP = "notes"
CA = "/tmp/pebble-root.pem"
ADMIN_USER, ADMIN_PASSWORD = "admin", "site-scenario-admin-password"
UPLOAD_NAME, UPLOAD_TEXT = "backed-up.txt", "saved by the backup, back after the restore"
TITLE_QUERY = "SELECT count(*) FROM notes_note"
LAST_MIGRATION = "0001_initial"


@pytest.fixture(scope="module", autouse=True)
def pebble_root(host):
    host.check_output(f"curl -sS --fail --cacert /etc/pebble/cert.pem -o {CA} https://localhost:15000/roots/0")


def https(host, path: str) -> tuple[int, str]:
    out = host.check_output(f"curl -sS -o /tmp/backup-body -w '%{{http_code}}' --cacert {CA} {BASE}{path}")
    return int(out), host.file("/tmp/backup-body").content_string


def notes_count(host) -> str:
    return host.check_output(f"runuser -u postgres -- psql -d {APP} -Atc '{TITLE_QUERY}'")


@pytest.fixture(scope="module")
def made(host):
    """A note with an uploaded file, made through the site's forms over HTTPS."""
    script = (Path(__file__).parent / "browser.py").read_text()
    host.check_output(f"cat > /tmp/browser.py <<'EOF'\n{script}\nEOF")
    out = host.check_output(
        "python3 /tmp/browser.py %s %s %s %s %s %s", BASE, CA, ADMIN_USER, ADMIN_PASSWORD, UPLOAD_NAME, UPLOAD_TEXT
    )
    return json.loads(out)


def test_the_timer_is_active_with_a_next_run(host):
    assert host.service(f"{APP}-backup.timer").is_running
    assert host.service(f"{APP}-backup.timer").is_enabled
    next_run = host.check_output(f"systemctl show -P NextElapseUSecRealtime {APP}-backup.timer")
    assert next_run not in ("", "n/a", "0")


def test_the_timers_service_saves_a_snapshot_of_the_database_and_the_uploads(host, made):
    host.check_output(f"systemctl start {APP}-backup.service")
    snapshots = json.loads(host.check_output(f"djangoops-backup {APP} restic snapshots --json"))
    assert snapshots, "no snapshot after the service ran"
    listing = host.check_output(f"djangoops-backup {APP} restic ls latest")
    assert "database.pgdump" in listing
    media_path = made["media_url"].removeprefix("/media/")
    assert f"/srv/{APP}/shared/media/{media_path}" in listing


def test_restore_without_confirmation_is_refused_before_any_change(host, made, run_playbook):
    count = notes_count(host)
    result = run_playbook("../../playbooks/restore.yml", limit=host.backend.name)
    assert result.returncode != 0
    assert "Run again with -e app_restore_confirm=true. Nothing was changed." in result.stdout
    assert host.service(f"{APP}.socket").is_running
    assert notes_count(host) == count


def test_restore_of_a_snapshot_that_no_host_has_is_refused_before_any_change(host, made, run_playbook):
    count = notes_count(host)
    result = run_playbook(
        "../../playbooks/restore.yml",
        {"app_restore_confirm": True, "app_restore_snapshot": "deadbeef"},
        limit=host.backend.name,
    )
    assert result.returncode != 0
    assert "No snapshot deadbeef (app_restore_snapshot) in the repository of" in result.stdout
    assert "Nothing was changed." in result.stdout
    assert host.service(f"{APP}.socket").is_running
    assert notes_count(host) == count


def test_the_backup_runs_as_its_own_user_and_the_dump_as_postgres(host, unit_users):
    host.check_output(f"systemctl start {APP}-backup.service")
    for unit, user in [(f"{APP}-backup-dump.service", "postgres"), (f"{APP}-backup.service", f"{APP}-backup")]:
        assert unit_users(host, unit) == {user}, unit
    owners = host.check_output(f"find /var/backups/restic/{APP} -printf '%u\\n' | sort -u")
    assert owners.split() == [f"{APP}-backup"]


def test_a_dropped_database_and_deleted_uploads_come_back_with_restore(host, made, run_playbook):
    count = notes_count(host)
    assert int(count) >= 1
    media_path = made["media_url"].removeprefix("/media/")
    # Destroy: the app stopped, the database dropped, the uploads deleted.
    host.check_output(f"systemctl stop {APP}.socket {APP}.service")
    host.check_output(f"runuser -u postgres -- dropdb --force {APP}")
    host.check_output(f"rm -rf /srv/{APP}/shared/media/*")
    assert https(host, made["media_url"])[0] == 404
    # Without Gunicorn nginx serves its maintenance page.
    status, body = https(host, "/")
    assert status == 503
    assert "maintenance" in body.lower()

    result = run_playbook("../../playbooks/restore.yml", {"app_restore_confirm": True}, limit=host.backend.name)
    assert result.returncode == 0, result.stdout[-3000:]
    assert re.search(r"Restored snapshot [0-9a-f]{64}", result.stdout)

    assert notes_count(host) == count
    status, body = https(host, made["media_url"])
    assert (status, body) == (200, UPLOAD_TEXT)
    status, _ = https(host, made["detail_url"].removeprefix(BASE))
    assert status in (200, 302)
    assert host.file(f"/srv/{APP}/shared/media/{media_path}").user == APP


def test_a_deploy_with_migrations_takes_a_snapshot_first_and_restore_undoes_them(host, made, run_playbook):
    migration = (
        "from django.db import migrations\n\n\n"
        "class Migration(migrations.Migration):\n"
        f'    dependencies = [("notes", "{LAST_MIGRATION}")]\n'
        "    operations = [\n"
        "        migrations.RunSQL('CREATE TABLE backup_marker (id integer)', 'DROP TABLE backup_marker'),\n"
        "    ]\n"
    )
    host.check_output(f"cat > /srv/src/notes/example/notes/migrations/0099_backup_marker.py <<'EOF'\n{migration}EOF")
    host.check_output(
        "cd /srv/src/notes && git add -A && git -c user.name=ci -c user.email=ci@site.test "
        "commit -qm 'A release with a migration' && git push -q origin main"
    )
    result = run_playbook("../../playbooks/deploy.yml", limit=host.backend.name)
    assert result.returncode == 0, result.stdout[-3000:]
    named = re.search(r"Before the migrations of \S+: snapshot ([0-9a-f]{64}) on", result.stdout.replace("\n", " "))
    assert named, "the deploy named no snapshot before its migrations"
    assert host.check_output(f"runuser -u postgres -- psql -d {APP} -Atc \"SELECT to_regclass('backup_marker')\"")

    result = run_playbook(
        "../../playbooks/restore.yml",
        {"app_restore_confirm": True, "app_restore_snapshot": named.group(1)},
        limit=host.backend.name,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    # The database is as it was before the migration: no table, the note still there.
    assert host.check_output(f"runuser -u postgres -- psql -d {APP} -Atc \"SELECT to_regclass('backup_marker')\"") == ""
    assert https(host, made["media_url"]) == (200, UPLOAD_TEXT)
