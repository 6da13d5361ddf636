"""The fixture project a project_* scenario deploys (SCENARIO_PROJECT), and what the tests know of it."""

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
NAME = os.environ["SCENARIO_PROJECT"]
FIXTURE = REPO / "tests" / "fixtures" / "projects" / NAME
BASE = "https://site.test"
CA = "/tmp/pebble-root.pem"

PROJECTS = {
    "startproject": {
        "app": "mysite",
        "db": "postgresql",
        "project_dir": "",
        "unedited": ["mysite/settings.py", "mysite/urls.py", "mysite/wsgi.py", "manage.py", "requirements.txt"],
        "admin": ("admin", "startproject-scenario-admin-password"),
        "admin_model": "Photos",
        "add_url": "/admin/gallery/photo/add/",
        "file_field": "image",
        "upload_dir": "photos",
        # requirements.txt lists Django only.
        "added": [
            "The requirements lack gunicorn: added gunicorn==27.0.1",
            "The requirements lack psycopg and psycopg2: added psycopg[binary]==3.3.9",
        ],
    },
    "srclayout": {
        "app": "bookshelf",
        "db": "sqlite",
        "project_dir": "src",
        "unedited": [
            "src/bookshelf/settings/base.py",
            "src/bookshelf/settings/production.py",
            "src/bookshelf/urls.py",
            "src/manage.py",
            "pyproject.toml",
        ],
        "admin": ("admin", "srclayout-scenario-admin-password"),
        "admin_model": "Books",
        "add_url": "/admin/shelf/book/add/",
        "file_field": "cover",
        "upload_dir": "covers",
        # pyproject.toml lists psycopg, not Gunicorn.
        "added": ["The requirements lack gunicorn: added gunicorn==27.0.1"],
    },
}
PROJECT = PROJECTS[NAME]
APP = PROJECT["app"]
