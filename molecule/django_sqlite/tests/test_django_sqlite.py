"""SQLite mode: the database lives in shared/, belongs to the app user, and outlives releases."""

import shlex

APP = "wiki"
ENV_FILE = f"/etc/{APP}/env"
RELEASES = f"/srv/{APP}/releases"
RELEASE = f"{RELEASES}/20250102000000-89abcde"
NEXT_RELEASE = f"{RELEASES}/20250103000000-fedcba9"
DB = f"/srv/{APP}/shared/db/{APP}.sqlite3"
SECRET_KEY = "scenario-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ"


def manage(host, release: str, *args: str):
    """manage.py in a release, as the app user with the environment file loaded."""
    script = f'set -a; . {ENV_FILE}; set +a; cd {release}/example && exec {release}/.venv/bin/python manage.py "$@"'
    quoted = " ".join(shlex.quote(arg) for arg in args)
    return host.run(f"runuser -u {APP} -- sh -c {shlex.quote(script)} sh {quoted}")


def sqlite(host, query: str) -> str:
    code = f"import sqlite3; print(*sqlite3.connect({DB!r}).execute({query!r}).fetchone())"
    return host.check_output(f"python3 -c {shlex.quote(code)}")


def test_database_file_in_shared_owned_and_private(host):
    db = host.file(DB)
    assert db.is_file
    assert (db.user, db.group, db.mode) == (APP, APP, 0o600)
    directory = host.file(f"/srv/{APP}/shared/db")
    assert (directory.user, directory.mode) == (APP, 0o700)
    assert host.run(f"runuser -u nobody -- test -r {DB}").rc != 0


def test_environment_points_django_at_it(host):
    content = host.file(ENV_FILE).content_string
    assert f'DATABASE_URL="sqlite:///{DB}"' in content
    # A given key is used as is, and no key file is generated.
    assert f'SECRET_KEY="{SECRET_KEY}"' in content
    assert not host.file(f"/etc/{APP}/secret_key").exists


def test_database_is_migrated(host):
    assert sqlite(host, "SELECT name FROM django_migrations WHERE app = 'notes'") == "0001_initial"
    assert sqlite(host, "SELECT count(*) FROM auth_user WHERE username = 'admin' AND is_superuser") == "1"
    result = manage(host, RELEASE, "migrate", "--check")
    assert result.rc == 0, result.stdout + result.stderr


def test_translations_compiled_in_the_release(host):
    mo = host.file(f"{RELEASE}/example/notes/locale/de/LC_MESSAGES/django.mo")
    assert mo.is_file
    assert mo.user == APP
    code = "from django.utils import translation; translation.activate('de'); print(translation.gettext('Notes'))"
    result = manage(host, RELEASE, "shell", "-c", code)
    assert result.rc == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "Notizen"


def test_data_survives_a_new_release(host, run_playbook):
    code = (
        "from django.contrib.auth import get_user_model; from notes.models import Note; "
        "Note.objects.create(title='kept', author=get_user_model().objects.get(username='admin'))"
    )
    assert manage(host, RELEASE, "shell", "-c", code).rc == 0
    inode = host.file(DB).inode
    # The next release: another commit of the same code, its own directory, the same virtualenv.
    host.check_output(
        f"rm -rf {NEXT_RELEASE} && cp -a {RELEASE} {NEXT_RELEASE}"
        f" && rm -f {NEXT_RELEASE}/example/notes/locale/de/LC_MESSAGES/django.mo"
        f" && echo fedcba9876543210fedcba9876543210fedcba98 > {NEXT_RELEASE}/REVISION"
    )
    result = run_playbook("converge.yml", {"django_release_path": NEXT_RELEASE}, limit=host.backend.name)
    assert result.returncode == 0, result.stdout[-3000:]
    assert host.file(DB).inode == inode
    assert sqlite(host, "SELECT count(*) FROM notes_note WHERE title = 'kept'") == "1"
    assert host.file(f"{NEXT_RELEASE}/example/notes/locale/de/LC_MESSAGES/django.mo").is_file
    # Rolling back to the first release finds the same data too.
    count = manage(host, RELEASE, "shell", "-c", "from notes.models import Note; print(Note.objects.count())")
    assert count.stdout.strip().splitlines()[-1] == "1"
