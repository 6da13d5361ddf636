"""Import a release's WSGI app the way a gunicorn worker will, with gunicorn's own --check-config.

Run by the release's python, in the sandbox of the service (systemd-run with the unit's properties):
import_check.py CONFIG WORKDIR WSGI_APP. CONFIG is gunicorn.conf.py, or "-" for the configuration
on stdin (the one the role is about to install). Exit status and import error are gunicorn's.
"""

import os
import runpy
import sys
import tempfile


def main(argv: list[str]) -> None:
    config, workdir, wsgi_app = argv
    if config == "-":
        # /tmp is private to this check (PrivateTmp) and removed with it.
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False, encoding="utf-8") as stream:
            stream.write(sys.stdin.read())
        config = stream.name
    # gunicorn.conf.py builds the workers' environment (environment file, REVISION) as raw_env.
    settings = runpy.run_path(config)
    os.environ.update(entry.split("=", 1) for entry in settings.get("raw_env", []))
    sys.argv = ["gunicorn", "--check-config", "--config", config, "--chdir", workdir, wsgi_app]
    from gunicorn.app.wsgiapp import run

    run()


if __name__ == "__main__":
    main(sys.argv[1:])
