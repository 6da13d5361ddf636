"""The role from the installed collection works: the database and its owner, a login with a password."""

import os
import shlex
from pathlib import Path


def test_the_installed_build_ran() -> None:
    installed = Path(os.environ["DJANGOOPS_COLLECTIONS_PATH"]) / "ansible_collections" / "djangoops" / "django"
    assert (installed / "MANIFEST.json").is_file()
    assert (installed / "roles" / "postgresql" / "tasks" / "main.yml").is_file()
    # What the build leaves out: the playbook project's parts.
    assert not (installed / "molecule").exists()
    assert not (installed / "inventory").exists()


def test_owner_logs_in_with_its_password_and_writes(host) -> None:
    dsn = "host=127.0.0.1 dbname=inventory user=inventory sslmode=disable connect_timeout=5"
    query = "CREATE TABLE IF NOT EXISTS item (id int); INSERT INTO item VALUES (7); SELECT count(*) > 0 FROM item"
    out = host.check_output(
        f"PGPASSWORD=collection-db-Secret-7 psql -XAtq -v ON_ERROR_STOP=1 {shlex.quote(dsn)} -c {shlex.quote(query)}"
    )
    assert out.strip() == "t"


def test_a_wrong_password_is_refused(host) -> None:
    dsn = "host=127.0.0.1 dbname=inventory user=inventory sslmode=disable connect_timeout=5"
    result = host.run(f"PGPASSWORD=wrong psql -XAtq {shlex.quote(dsn)} -c 'SELECT 1'")
    assert result.rc != 0
    assert "password authentication failed" in result.stderr
