"""plugins/filter/postgresql.py: which user and database modules the postgresql role runs, from one read.

The password comparison is checked against community.postgresql's own (postgresql_user's
user_should_we_change_password); the molecule postgresql scenario checks the whole against a real server.
"""

import base64
import hashlib
import hmac
import importlib.util
import os
from pathlib import Path

import pytest
from ansible_collections.community.postgresql.plugins.modules import postgresql_user

_spec = importlib.util.spec_from_file_location(
    "postgresql_filter", Path(__file__).resolve().parent.parent / "plugins" / "filter" / "postgresql.py"
)
postgresql = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(postgresql)
changes = postgresql.postgresql_data_changes

NOTHING = {"users": [], "databases": [], "privileges": [], "extensions": []}


def verifier(password: str, iterations: int = 4096) -> str:
    """A SCRAM-SHA-256 verifier as PostgreSQL stores it (pg_authid.rolpassword)."""
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    salt_text, stored_key, server_key = (
        base64.b64encode(value).decode() for value in (salt, hashlib.sha256(client_key).digest(), server_key)
    )
    return f"SCRAM-SHA-256${iterations}:{salt_text}${stored_key}:{server_key}"


class ScramServer:
    """The cursor postgresql_user asks for password_encryption: the role's setting."""

    def execute(self, query):
        assert query == "SHOW password_encryption"

    def fetchone(self):
        return {"password_encryption": "scram-sha-256"}


def role(password=None, **flags) -> dict:
    attributes = dict.fromkeys(postgresql.FLAGS, False) | {"INHERIT": True, "LOGIN": True}
    return {"password": password, **attributes, **flags}


def database(owner="app", encoding="UTF8", locale="C.UTF-8", public=None, extensions=()) -> dict:
    grants = [[owner, "CREATE"], [owner, "USAGE"], ["pg_database_owner", "USAGE"]] if public is None else public
    return {
        "owner": owner,
        "encoding": encoding,
        "collate": locale,
        "ctype": locale,
        "public": grants,
        "extensions": ["plpgsql", *extensions],
    }


USERS = [{"name": "app", "password": "app-db-Secret-1", "role_attr_flags": "CREATEDB"}, {"name": "reporter"}]
DATABASES = [{"name": "app", "owner": "app", "extensions": ["pg_trgm"]}, {"name": "plain"}]


def state() -> dict:
    return {
        "users": {"app": role(verifier("app-db-Secret-1"), CREATEDB=True), "reporter": role()},
        "databases": {"app": database(extensions=["pg_trgm"]), "plain": database(owner="postgres", public=[])},
    }


@pytest.mark.parametrize(
    "password",
    ["app-db-Secret-1", "app-db-Secret-2", "", " spaces and ~!@#$%^&*()", "pässwörd", "x" * 100],
)
@pytest.mark.parametrize("stored_for", ["app-db-Secret-1", " spaces and ~!@#$%^&*()", "pässwörd", None])
def test_a_password_matches_exactly_when_postgresql_user_would_not_change_it(password, stored_for):
    stored = verifier(stored_for) if stored_for is not None else None
    module_changes = postgresql_user.user_should_we_change_password(
        ScramServer(), {"rolpassword": stored}, "app", password, "ENCRYPTED"
    )
    ours = postgresql.password_matches(password, stored)
    if password.isascii() or module_changes:
        assert ours is not module_changes
    else:
        # A non-ASCII password goes through SASLprep: never compared here, the module decides.
        assert ours is False


def test_a_hash_given_as_the_password_is_compared_as_it_is():
    stored = verifier("secret")
    assert postgresql.password_matches(stored, stored)
    assert not postgresql.password_matches(verifier("secret"), stored)
    assert postgresql.password_matches(None, stored)
    assert not postgresql.password_matches("secret", "md5" + "0" * 32)


def test_what_the_server_has_is_no_change():
    assert changes(state(), USERS, DATABASES, "C.UTF-8") == NOTHING


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda found: found["users"].pop("reporter"), {"users": ["reporter"]}),
        (lambda found: found["users"]["app"].update(password=verifier("other")), {"users": ["app"]}),
        (lambda found: found["users"]["app"].update(password="md5" + "0" * 32), {"users": ["app"]}),
        (lambda found: found["users"]["app"].update(CREATEDB=False), {"users": ["app"]}),
        (lambda found: found["databases"].pop("plain"), {"databases": ["plain"]}),
        (lambda found: found["databases"]["app"].update(owner="postgres"), {"databases": ["app"]}),
        (lambda found: found["databases"]["app"].update(encoding="LATIN1"), {"databases": ["app"]}),
        (lambda found: found["databases"]["app"].update(ctype="en_US.UTF-8"), {"databases": ["app"]}),
        (lambda found: found["databases"]["app"].update(public=[["app", "USAGE"]]), {"privileges": ["app"]}),
        (lambda found: found["databases"]["app"].update(public=[]), {"privileges": ["app"]}),
        (lambda found: found["databases"]["app"].update(extensions=["plpgsql"]), {"extensions": ["app"]}),
        (
            lambda found: found["databases"].pop("app"),
            {"databases": ["app"], "privileges": ["app"], "extensions": ["app"]},
        ),
    ],
)
def test_each_difference_runs_its_module(edit, expected):
    found = state()
    edit(found)
    assert changes(found, USERS, DATABASES, "C.UTF-8") == NOTHING | expected


@pytest.mark.parametrize(
    ("flags", "matches"),
    [
        ("CREATEDB", True),
        ("createdb,NOSUPERUSER", True),
        ("CREATEDB,LOGIN,INHERIT,NOREPLICATION,NOBYPASSRLS,NOCREATEROLE", True),
        ("SUPERUSER", False),
        ("NOLOGIN", False),
        ("CREATEDB, NOSUPERUSER", False),  # postgresql_user rejects the space: its module runs and says so
        ("CREATEUSER", False),
        ("", True),
        (None, True),
    ],
)
def test_role_attributes(flags, matches):
    assert postgresql.flags_match(flags, role(CREATEDB=True)) is matches


def test_locale_and_encoding_as_postgresql_db_compares_them():
    found = state()
    assert changes(found, USERS, [{"name": "app", "owner": "app", "encoding": "utf-8"}], "C.UTF-8") == NOTHING
    given = [{"name": "app", "owner": "app", "locale": "en_US.UTF-8"}]
    assert changes(found, USERS, given, "C.UTF-8")["databases"] == ["app"]
    assert changes(found, USERS, [{"name": "app", "owner": "app"}], "en_US.UTF-8")["databases"] == ["app"]


@pytest.mark.parametrize(
    "answer", [{}, None, {"error": "runuser: user postgres does not exist"}, {"users": {}}, "not an object"]
)
def test_no_answer_runs_every_module(answer):
    assert changes(answer, USERS, DATABASES, "C.UTF-8") == {
        "users": ["app", "reporter"],
        "databases": ["app", "plain"],
        "privileges": ["app"],
        "extensions": ["app"],
    }
    assert changes(answer, [], [], "C.UTF-8") == NOTHING
