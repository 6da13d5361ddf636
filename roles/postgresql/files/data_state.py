"""The users and databases the role manages, as the server has them, in one call: one JSON object on stdout.

Run by the host's python3 as root over raw (tasks/main.yml), with one argument, a JSON object:
  port       the server's port
  users      role names to read (pg_authid: the password's hash and the attributes)
  databases  database names to read (pg_database: owner, encoding, locale; and, in each one that exists, the
             grants on its schema public and its extensions)
Asks psql as the postgres user over the socket. Prints, on the last line,
  {"users": {name: {"password": hash or null, "SUPERUSER": bool, ...}},
   "databases": {name: {"owner", "encoding", "collate", "ctype", "public": [[grantee, privilege], ...],
                        "extensions": [name, ...]}}}
(a name that does not exist is left out), or {"error": "..."} when the server cannot be asked (not installed yet,
stopped): the role then runs its modules, which say why. Reads only; the answer holds password hashes (the task that
runs it hides its output like the user tasks).
"""

import json
import subprocess
import sys

ROLES = """
SELECT coalesce(json_object_agg(rolname, json_build_object(
         'password', rolpassword, 'SUPERUSER', rolsuper, 'CREATEROLE', rolcreaterole, 'CREATEDB', rolcreatedb,
         'INHERIT', rolinherit, 'LOGIN', rolcanlogin, 'REPLICATION', rolreplication, 'BYPASSRLS', rolbypassrls)),
       '{}'::json)
  FROM pg_authid WHERE rolname = ANY (string_to_array(:'names', ','));
"""

DATABASES = """
SELECT coalesce(json_object_agg(datname, json_build_object(
         'owner', pg_get_userbyid(datdba), 'encoding', pg_encoding_to_char(encoding),
         'collate', datcollate, 'ctype', datctype)),
       '{}'::json)
  FROM pg_database WHERE datname = ANY (string_to_array(:'names', ','));
"""

# The explicit grants on public (a NULL ACL, the default, has none) and the extensions, in one database.
IN_DATABASE = """
SELECT json_build_object(
         'public', (SELECT coalesce(json_agg(json_build_array(
                              CASE WHEN acl.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(acl.grantee) END,
                              acl.privilege_type)), '[]'::json)
                      FROM pg_namespace, aclexplode(nspacl) AS acl WHERE nspname = 'public'),
         'extensions', (SELECT coalesce(json_agg(extname), '[]'::json) FROM pg_extension));
"""


def ask(port: int, database: str, query: str, names: list[str] = ()):
    """One query's JSON answer, from psql as the postgres user (peer authentication over the socket)."""
    command = ["runuser", "-u", "postgres", "--", "psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-p", str(port)]
    command += ["-d", database, "-v", "names=" + ",".join(names), "-f", "-"]
    done = subprocess.run(command, input=query, capture_output=True, text=True, cwd="/", check=False)
    if done.returncode != 0:
        raise RuntimeError((done.stderr or done.stdout).strip() or f"psql exited with {done.returncode}")
    return json.loads(done.stdout)


def read(options: dict) -> dict:
    port = int(options["port"])
    users = ask(port, "postgres", ROLES, options["users"]) if options.get("users") else {}
    databases = ask(port, "postgres", DATABASES, options["databases"]) if options.get("databases") else {}
    for name, found in sorted(databases.items()):
        found.update(ask(port, name, IN_DATABASE))
    return {"users": users, "databases": databases}


def main() -> None:
    try:
        answer = read(json.loads(sys.argv[1]))
    except (OSError, RuntimeError, ValueError, KeyError) as error:
        answer = {"error": str(error)}
    print(json.dumps(answer, sort_keys=True))


if __name__ == "__main__":
    main()
