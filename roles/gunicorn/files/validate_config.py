"""Parse a gunicorn.conf.py with the release's gunicorn, failing on a setting gunicorn refuses.

Run by the release's python as the template's validate command: validate_config.py CONFIG.
"""

import runpy
import sys

from gunicorn.config import Config


def main(path: str) -> None:
    config = Config()
    for key, value in runpy.run_path(path).items():
        # chdir may not exist yet (before the first activation); the import check passes its own.
        if key in config.settings and key != "chdir":
            config.set(key, value)


if __name__ == "__main__":
    main(sys.argv[1])
