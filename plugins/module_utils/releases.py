"""What the collection's modules read of an app's base directory (releases/, current, previous) and its cache.

Used by djangoops.django.release_info (read only) and djangoops.django.release_switch (the activation)."""

import os
import subprocess
import time


def link_name(path: str) -> str:
    """The last component of a symlink's target (a release name); "" when path is no symlink."""
    return os.path.basename(os.readlink(path)) if os.path.islink(path) else ""


def revision(release: str) -> str:
    """The commit in a release's REVISION file; "" when it is missing."""
    try:
        with open(os.path.join(release, "REVISION"), encoding="utf-8") as stream:
            return stream.read().strip()
    except OSError:
        return ""


def read(root: str) -> dict:
    """current_type ("link", "other" or "none"), current and previous (release names, "" for no link),
    releases ({name: the commit in its REVISION}, hidden directories excluded), leftovers (releases/.tmp-*),
    stamp (the host's UTC time, YYYYmmddHHMMSS). A base directory that does not exist reads as empty."""
    releases_dir = os.path.join(root, "releases")
    entries = []
    if os.path.isdir(releases_dir):
        entries = [e for e in os.scandir(releases_dir) if e.is_dir(follow_symlinks=False)]
    current = os.path.join(root, "current")
    return {
        "current_type": "link" if os.path.islink(current) else "other" if os.path.lexists(current) else "none",
        "current": link_name(current),
        "previous": link_name(os.path.join(root, "previous")),
        "releases": {e.name: revision(e.path) for e in entries if not e.name.startswith(".")},
        "leftovers": sorted(e.name for e in entries if e.name.startswith(".tmp-")),
        "stamp": time.strftime("%Y%m%d%H%M%S", time.gmtime()),
    }


def resolve(cache: str, version: str) -> str:
    """The commit sha the version names in the bare repository cache ("" when it names none, or no cache)."""
    command = ["git", f"--git-dir={cache}", "rev-parse", "--verify", "--quiet", f"{version}^{{commit}}"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError:
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


def holding(state: dict, sha: str) -> str:
    """The release that holds the commit, current's first; "" when none does."""
    found = sorted(name for name, rev in state["releases"].items() if sha and rev == sha)
    return state["current"] if state["current"] in found else (found[-1] if found else "")
