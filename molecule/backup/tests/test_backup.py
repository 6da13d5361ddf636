"""The backup role, checked as a user would: the timer, a snapshot made now, a restore that brings the rows
and the files back (and one refused without confirmation), retention, a failing backup, the same over SFTP,
and no secret in a -vvv run.

converge.yml sets up two backups on backup-debian12 (PostgreSQL database `notes` with the table `note`,
media in /srv/notes/shared/media): `notes` into a local repository, with an OnFailure hook that writes
scenario_failure_mark; `notes-offsite` over SFTP to backup-debian13 (user restic, internal-sftp only),
keeping the last two snapshots. The tests run in file order: each leaves the data as converge made it.
"""

import functools
import json
import os
import shlex
import time
from pathlib import Path

import pytest
import testinfra
import yaml

DB_HOST = "backup-debian12"
TARGET = "backup-debian13"
SCENARIO = Path(__file__).resolve().parent.parent
VARS = yaml.safe_load((SCENARIO / "vars" / "scenario.yml").read_text())
MEDIA = VARS["scenario_media"]
ROWS = "1|first\n2|second\n3|third"
FILES = {"avatar.txt": "upload avatar.txt\n", "uploads/report.txt": "upload uploads/report.txt\n"}


@functools.cache
def container(name: str):
    return testinfra.get_host(f"podman://{name}")


def db() -> testinfra.host.Host:
    return container(DB_HOST)


def sql(query: str) -> str:
    """A query in the database notes, as postgres; the output rows as `a|b` lines."""
    return db().check_output(f"runuser -u postgres -- psql -XAtq -d notes -c {shlex.quote(query)}")


def media() -> dict[str, str]:
    """The media files (relative path: content) and their owner and mode."""
    out = db().check_output(f"cd {MEDIA} && find . -type f -printf '%P\\t%u:%g %m\\n' | sort")
    found = {}
    for line in out.splitlines():
        path, meta = line.split("\t")
        found[path] = (db().file(f"{MEDIA}/{path}").content_string, meta)
    return found


def expected_media() -> dict[str, tuple[str, str]]:
    return {path: (content, "www-data:www-data 640") for path, content in FILES.items()}


def snapshots(name: str) -> list[dict]:
    return json.loads(db().check_output(f"djangoops-backup {name} restic snapshots --json"))


def damage() -> None:
    db().check_output(f"runuser -u postgres -- psql -XAtq -d notes -c 'DROP TABLE note' && rm -rf {MEDIA}/*")
    assert "note" not in sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    assert media() == {}


def secrets() -> list[str]:
    key = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "sftp_key").read_text()
    body = [line for line in key.splitlines() if line and not line.startswith("-----")]
    assert body
    return [VARS["scenario_local_password"], VARS["scenario_offsite_password"], *body]


def unit_properties(unit: str, *names: str) -> dict[str, str]:
    """`systemctl show` of a unit's properties, as a dict."""
    out = db().check_output(f"systemctl show {unit} " + " ".join(f"-p {name}" for name in names))
    return dict(line.split("=", 1) for line in out.splitlines())


# --- what converge made --------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "calendar"), [("notes", "*-*-* 00:00:00"), ("notes-offsite", "*-*-* 03:30:00")])
def test_the_timer_is_active_with_a_next_run(name, calendar):
    timer = db().service(f"{name}-backup.timer")
    assert timer.is_enabled
    assert timer.is_running
    shown = unit_properties(
        f"{name}-backup.timer", "NextElapseUSecRealtime", "Persistent", "TimersCalendar", "RandomizedDelayUSec"
    )
    assert shown["NextElapseUSecRealtime"] not in ("", "n/a", "0")
    assert shown["Persistent"] == "yes"
    assert calendar in shown["TimersCalendar"]
    assert shown["RandomizedDelayUSec"] in ("1h", "15min")
    assert f"{name}-backup.timer" in db().check_output("systemctl list-timers --no-pager")


USERS = {"notes": ("notes-backup", ["www-data"], ""), "notes-offsite": ("restic-offsite", [], "cap_dac_read_search")}


@pytest.mark.parametrize("name", ["notes", "notes-offsite"])
def test_secrets_are_readable_by_root_and_the_backup_user_only(name):
    user = USERS[name][0]
    config = db().file(f"/etc/{name}-backup")
    assert (config.user, config.group, config.mode) == ("root", "root", 0o711)
    for secret in ["password", "restic.env"]:
        f = db().file(f"/etc/{name}-backup/{secret}")
        assert (f.user, f.group, f.mode) == ("root", user, 0o640), secret
    if name == "notes-offsite":
        key = db().file(f"/etc/{name}-backup/sftp_key")
        assert (key.user, key.group, key.mode) == (user, user, 0o600)
    password = VARS["scenario_local_password" if name == "notes" else "scenario_offsite_password"]
    assert db().file(f"/etc/{name}-backup/password").content_string.strip() == password
    assert password not in db().check_output(f"systemctl cat {name}-backup.service {name}-backup.timer")
    assert "RESTIC_PASSWORD_FILE=" in db().file(f"/etc/{name}-backup/restic.env").content_string
    # Another user, the app's www-data or the database's postgres, reads none of them.
    for other in ["www-data", "postgres"]:
        assert db().run(f"runuser -u {other} -- cat /etc/{name}-backup/password").rc != 0, other
        assert db().run(f"runuser -u {other} -- ls /etc/{name}-backup").rc != 0, other


@pytest.mark.parametrize("name", ["notes", "notes-offsite"])
def test_the_backup_runs_as_its_user_with_least_rights_and_the_dump_as_postgres(name, unit_users):
    user, groups, capability = USERS[name]
    db().check_output(f"systemctl start {name}-backup.service")
    # Who wrote the journal lines of each unit: the dump postgres, restic its user; root never.
    assert unit_users(db(), f"{name}-backup-dump.service") == {"postgres"}
    assert unit_users(db(), f"{name}-backup.service") == {user}
    properties = ["User", "SupplementaryGroups", "AmbientCapabilities", "CapabilityBoundingSet", "NoNewPrivileges"]
    shown = unit_properties(f"{name}-backup.service", *properties, "ProtectSystem")
    assert shown["User"] == user
    assert shown["SupplementaryGroups"].split() == groups
    assert shown["AmbientCapabilities"] == capability
    assert shown["CapabilityBoundingSet"] == capability
    assert (shown["NoNewPrivileges"], shown["ProtectSystem"]) == ("yes", "strict")
    assert db().check_output(f"systemctl show {name}-backup-dump.service -p User --value") == "postgres"
    # The dump is saved, then gone from the host.
    assert db().check_output(f"ls -A /var/lib/{name}-backup/dump") == ""
    if name == "notes":
        # The local repository and the cache are the backup user's, even after root's `restic` calls.
        owners = db().check_output("find /var/backups/restic/notes /var/cache/notes-backup -printf '%u\\n' | sort -u")
        assert owners.split() == [user]


def test_the_sftp_repository_is_on_the_target_only():
    assert container(TARGET).file(f"{VARS['scenario_sftp_dir']}/notes/config").exists
    assert container(TARGET).file(f"{VARS['scenario_sftp_dir']}/notes").user == VARS["scenario_sftp_user"]
    assert db().file("/var/backups/restic/notes/config").exists
    assert not db().file("/var/backups/restic/notes-offsite").exists


def settings() -> str:
    """What a refused run must leave alone: the backup's settings and units."""
    return db().check_output(
        "sha256sum /etc/notes-backup/* /etc/systemd/system/notes-backup.service /etc/systemd/system/notes-backup.timer"
    )


@pytest.mark.parametrize(
    ("extra_vars", "message"),
    [
        ({"backup_repository": "ftp://backup.example.org/notes"}, "backup_repository must be a local directory"),
        (
            {"backup_repository": "sftp:restic@192.0.2.10:/srv/restic/notes"},
            "backup_sftp_known_hosts must list the SFTP server's host keys",
        ),
        ({"backup_on_calendar": "every day"}, "backup_on_calendar must be a systemd calendar expression"),
        (
            {"backup_keep_daily": 0, "backup_keep_weekly": 0, "backup_keep_monthly": 0},
            "One of backup_keep_last, backup_keep_daily",
        ),
    ],
)
def test_bad_input_stops_the_run_before_any_change(run_playbook, extra_vars, message):
    before = settings()
    result = run_playbook("local.yml", extra_vars)
    assert result.returncode != 0
    assert message in result.stdout
    assert "changed=0" in result.stdout
    assert settings() == before


# --- a backup now, a restore -----------------------------------------------------------------------


def test_backup_now_makes_a_snapshot_of_the_database_and_the_media(run_playbook):
    before = {s["id"] for s in snapshots("notes")}
    result = run_playbook("now.yml", {"backup_name": "notes"})
    assert result.returncode == 0, result.stdout
    new = [s for s in snapshots("notes") if s["id"] not in before]
    assert len(new) == 1
    assert f"Backup notes: snapshot {new[0]['id']} saved" in result.stdout
    assert new[0]["tags"] == ["notes"]
    assert sorted(new[0]["paths"]) == sorted([MEDIA, "/var/lib/notes-backup/dump"])
    listing = db().check_output(f"djangoops-backup notes restic ls {new[0]['id']}")
    assert "/var/lib/notes-backup/dump/database.pgdump" in listing
    assert f"{MEDIA}/uploads/report.txt" in listing
    # A custom-format dump that pg_restore reads, with the table and its rows.
    toc = db().check_output(
        f"djangoops-backup notes restic dump {new[0]['id']} /var/lib/notes-backup/dump/database.pgdump"
        " | runuser -u postgres -- pg_restore --list"
    )
    assert "TABLE public note notes" in toc
    assert "TABLE DATA public note notes" in toc


def test_a_restore_without_confirmation_is_refused_and_changes_nothing(run_playbook):
    sql("DELETE FROM note WHERE id = 3")
    db().check_output(f"echo changed > {MEDIA}/avatar.txt")
    try:
        result = run_playbook("restore.yml", {"backup_name": "notes"})
        assert result.returncode != 0
        assert "backup_restore_confirm" in result.stdout
        assert "Nothing was changed" in result.stdout
        assert "changed=0" in result.stdout
        assert sql("SELECT id, body FROM note ORDER BY id") == "1|first\n2|second"
        assert db().file(f"{MEDIA}/avatar.txt").content_string == "changed\n"
    finally:
        sql("INSERT INTO note VALUES (3, 'third') ON CONFLICT DO NOTHING")
        db().check_output(f"echo 'upload avatar.txt' > {MEDIA}/avatar.txt")
        # A table made after the snapshot (a migration that went wrong): the restore must not keep it.
        sql("CREATE TABLE IF NOT EXISTS made_later (id integer)")


def test_a_restore_brings_back_the_rows_and_the_files(run_playbook):
    damage()
    result = run_playbook("restore.yml", {"backup_name": "notes", "backup_restore_confirm": True})
    assert result.returncode == 0, result.stdout
    latest = max(snapshots("notes"), key=lambda s: s["time"])
    assert f"Restored snapshot {latest['id']}" in result.stdout
    assert sql("SELECT id, body FROM note ORDER BY id") == ROWS
    assert sql("SELECT tableowner FROM pg_tables WHERE tablename = 'note'") == "notes"
    assert sql("SELECT to_regclass('made_later')") == ""
    assert sql("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'notes'") == "notes"
    assert sql("SELECT count(*) FROM pg_database WHERE datname LIKE 'notes%'") == "1"
    assert media() == expected_media()


# --- retention, a failure --------------------------------------------------------------------------


def test_retention_keeps_the_last_two_snapshots():
    made = []
    for _ in range(3):
        db().check_output("systemctl start notes-offsite-backup.service")
        made.append(db().file("/var/lib/notes-offsite-backup/last-snapshot").content_string.strip())
    assert len(set(made)) == 3
    kept = {s["id"] for s in snapshots("notes-offsite")}
    assert kept == set(made[1:])


def test_a_failing_backup_fails_the_unit_says_why_and_runs_the_hook(run_playbook):
    host = db()
    host.run(f"rm -f {VARS['scenario_failure_mark']}")
    try:
        result = run_playbook("local.yml", {"backup_database_name": "nope", "scenario_run_now": True})
        assert result.returncode != 0
        assert "The backup notes-backup.service on backup-debian12 failed: notes-backup-dump.service" in result.stdout
        assert 'database \\"nope\\" does not exist' in result.stdout  # the journal's line, in the JSON of the error
        # The dump failed, so the backup did not run (it never saves a stale dump).
        assert host.run("systemctl is-failed notes-backup-dump.service").stdout.strip() == "failed"
        assert host.check_output("ls -A /var/lib/notes-backup/dump") == ""
        journal = host.check_output("journalctl -u notes-backup-dump.service --no-pager -o cat -n 50")
        assert 'database "nope" does not exist' in journal
        # The hook ran once, for the dump (systemd also starts it for the backup whose start failed).
        hook = host.file(VARS["scenario_failure_mark"])
        for _ in range(20):
            if hook.exists:
                break
            time.sleep(0.5)
        time.sleep(2)
        assert hook.content_string.splitlines() == ["notes-backup-dump.service exit-code"]
    finally:
        restored = run_playbook("local.yml")
        assert restored.returncode == 0, restored.stdout
        host.run("systemctl reset-failed notes-backup.service notes-backup-dump.service")


# --- over SFTP, and secrets in -vvv output ---------------------------------------------------------


def test_restore_from_the_sftp_repository(run_playbook):
    assert snapshots("notes-offsite"), "the retention test made snapshots"
    damage()
    result = run_playbook(
        "restore.yml", {"backup_name": "notes-offsite", "backup_restore_confirm": True}, args=["-vvv"]
    )
    assert result.returncode == 0, result.stdout
    assert sql("SELECT id, body FROM note ORDER BY id") == ROWS
    assert media() == expected_media()
    for secret in secrets():
        assert secret not in result.stdout


def test_no_secret_in_the_output_of_a_verbose_converge(run_playbook):
    """The secret files are removed first, so the run writes them again (changed) at -vvv."""
    db().check_output(
        "rm /etc/notes-backup/password /etc/notes-offsite-backup/password /etc/notes-offsite-backup/sftp_key"
    )
    result = run_playbook("converge.yml", args=["-vvv", "--diff"])
    assert result.returncode == 0, result.stdout
    assert "ESTABLISH SSH CONNECTION" in result.stdout  # it was verbose
    assert "censored" in result.stdout  # and the no_log tasks ran
    for secret in secrets():
        assert secret not in result.stdout
    assert db().file("/etc/notes-offsite-backup/sftp_key").mode == 0o600
