# Run by `manage.py shell -c` before the migrations: Django's deployment checks, the WSGI import, the
# migration plan and `collectstatic`, in one process (each was a process of its own, and each started Django).
# Reads its inputs from stdin (JSON): check_deploy, fail_level, wsgi_application ("" skips the import),
# migrate, superuser (a username, "" for none), collectstatic. Exits 3 when the deployment checks fail,
# printing Django's findings on stderr (nothing is collected then); any other error (an import, the
# database) ends in its traceback.
# The last line of stdout is "djangoops-release-checks: " and a JSON object: {"unapplied": ["<app>.<migration>", ...],
# "superuser_found": the superuser's username when a user has it already, else "" (also when the user
# model's table is not migrated yet or may change: the superuser task then runs after the migrations),
# and with collectstatic, "collectstatic": {"output": what it printed, "error": why it failed, "" when it did not}}.
import importlib
import io
import json
import sys
import traceback

from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError

wanted = json.load(sys.stdin)
report = {"unapplied": [], "superuser_found": ""}

if wanted["check_deploy"]:
    # What `manage.py check --deploy --fail-level <level>` prints and how it fails.
    found = io.StringIO()
    try:
        call_command("check", deploy=True, fail_level=wanted["fail_level"], stdout=found, stderr=found)
    except SystemCheckError as error:
        sys.stderr.write(found.getvalue() + str(error) + "\n")
        sys.exit(3)
    sys.stdout.write(found.getvalue())

if wanted["wsgi_application"]:
    module, _, attribute = wanted["wsgi_application"].partition(":")
    target = importlib.import_module(module)
    for name in (attribute or "application").split("."):
        target = getattr(target, name)

if wanted["migrate"]:
    # What `manage.py migrate --check` reads: conflicts and an inconsistent history are errors, then the
    # plan to the leaf nodes is what is unapplied.
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.migrations.executor import MigrationExecutor

    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    executor.loader.check_consistent_history(connection)
    conflicts = executor.loader.detect_conflicts()
    if conflicts:
        names = "; ".join(f"{', '.join(leaves)} in {app}" for app, leaves in conflicts.items())
        raise CommandError(
            f"Conflicting migrations detected; multiple leaf nodes in the migration graph: ({names}).\n"
            "To fix them run 'python manage.py makemigrations --merge'"
        )
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    report["unapplied"] = [f"{migration.app_label}.{migration.name}" for migration, _ in plan]

if wanted.get("superuser"):
    from django.contrib.auth import get_user_model
    from django.db import DatabaseError

    User = get_user_model()
    if User._meta.app_label not in {name.partition(".")[0] for name in report["unapplied"]}:
        try:
            if User._default_manager.filter(**{User.USERNAME_FIELD: wanted["superuser"]}).exists():
                report["superuser_found"] = wanted["superuser"]
        except DatabaseError:
            pass  # no table yet (a first run): the superuser task runs after the migrations

if wanted.get("collectstatic"):
    # `manage.py collectstatic --noinput`, once the release passed the checks above. A failure (a file a stylesheet
    # names that is missing, a STATIC_ROOT that cannot be written) is reported, not raised: the role's task named
    # for it stops the run with it, before the migrations.
    collected = io.StringIO()
    try:
        call_command("collectstatic", interactive=False, stdout=collected)
        error = ""
    except Exception as failure:  # any failure of the command is the task's to report
        traceback.print_exc()
        error = f"{type(failure).__name__}: {failure}"
    report["collectstatic"] = {"output": collected.getvalue(), "error": error}

print("djangoops-release-checks: " + json.dumps(report))
