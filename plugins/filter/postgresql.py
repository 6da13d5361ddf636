"""What the postgresql role's user and database modules would change, decided from one read of the server.

- `postgresql_data_changes(state, users, databases, default_locale)`: `state` is the answer of
  roles/postgresql/files/data_state.py; `users` and `databases` are postgresql_users and postgresql_databases.
  Returns {"users": [...], "databases": [...], "privileges": [...], "extensions": [...]}: the names whose module
  (community.postgresql's postgresql_user, postgresql_db, postgresql_privs, postgresql_ext, as the role calls them)
  would find something to do. It answers as the modules decide a change, and errs towards running them: a state it
  cannot read (no answer, an error), a password it cannot compare (not SCRAM on the server, not printable ASCII) or
  an attribute it does not know counts as a change, and the module decides.
"""

import base64
import hashlib
import hmac
import re

SCRAM = re.compile(r"^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$")
MD5 = re.compile(r"^md5[0-9a-f]{32}$")
FLAGS = ("SUPERUSER", "CREATEROLE", "CREATEDB", "INHERIT", "LOGIN", "REPLICATION", "BYPASSRLS")


def scram_matches(password: str, stored: str | None) -> bool:
    """Whether a SCRAM-SHA-256 verifier (pg_authid.rolpassword) is the one of `password` (RFC 5802's ServerKey).

    Only printable ASCII, which SASLprep leaves as it is; any other password reads as not matching.
    """
    found = SCRAM.match(stored or "")
    if not found or not all(" " <= character <= "~" for character in password):
        return False
    iterations, salt, server_key = int(found.group(1)), base64.b64decode(found.group(2)), found.group(4)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    expected = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return hmac.compare_digest(expected, base64.b64decode(server_key))


def password_matches(password, stored: str | None) -> bool:
    """As postgresql_user compares them: no password leaves it; '' means none; a hash is compared as it is."""
    if password is None:
        return True
    if password == "":
        return stored is None
    if SCRAM.match(password) or MD5.match(password):
        return password == stored
    return scram_matches(password, stored)


def flags_match(role_attr_flags, found: dict) -> bool:
    """postgresql_user's role_attr_flags (comma-separated, [NO]FLAG) against the role's attributes."""
    for flag in {flag.upper() for flag in (role_attr_flags or "").split(",") if flag}:
        name, wanted = (flag[2:], False) if flag.startswith("NO") else (flag, True)
        if name not in FLAGS or found.get(name) is not wanted:
            return False
    return True


def _encoding(name) -> str:
    return re.sub(r"[-_]", "", str(name)).upper()


def database_matches(database: dict, found: dict | None, default_locale: str) -> bool:
    """postgresql_db's state present as the role calls it: exists with this owner, encoding and locale."""
    locale = database.get("locale") or default_locale
    return (
        found is not None
        and found.get("owner") == database.get("owner", "postgres")
        and _encoding(found.get("encoding")) == _encoding(database.get("encoding", "UTF8"))
        and found.get("collate") == locale
        and found.get("ctype") == locale
    )


def postgresql_data_changes(state, users, databases, default_locale: str) -> dict:
    users, databases = list(users or []), list(databases or [])
    owned = [database for database in databases if database.get("owner", "postgres") != "postgres"]
    if not isinstance(state, dict) or "error" in state or not {"users", "databases"} <= set(state):
        return {
            "users": [user["name"] for user in users],
            "databases": [database["name"] for database in databases],
            "privileges": [database["name"] for database in owned],
            "extensions": [database["name"] for database in databases if database.get("extensions")],
        }
    found_users, found_databases = state["users"] or {}, state["databases"] or {}
    changes = {"users": [], "databases": [], "privileges": [], "extensions": []}
    for user in users:
        found = found_users.get(user["name"])
        if (
            found is None
            or not password_matches(user.get("password"), found.get("password"))
            or not flags_match(user.get("role_attr_flags"), found)
        ):
            changes["users"].append(user["name"])
    for database in databases:
        found = found_databases.get(database["name"])
        if not database_matches(database, found, default_locale):
            changes["databases"].append(database["name"])
        granted = {tuple(grant) for grant in (found or {}).get("public", [])}
        if database in owned and not {(database["owner"], "CREATE"), (database["owner"], "USAGE")} <= granted:
            changes["privileges"].append(database["name"])
        if not set(database.get("extensions") or []) <= set((found or {}).get("extensions", [])):
            changes["extensions"].append(database["name"])
    return changes


class FilterModule:
    def filters(self) -> dict:
        return {"postgresql_data_changes": postgresql_data_changes}
