"""Print, as one JSON object, what app_code needs to know about an app's base directory; changes nothing.

Environment:
  APP_CODE_ROOT     the app's base directory (releases/, current, previous)
  APP_CODE_CACHE    optional: the bare repository cache in which to resolve APP_CODE_VERSION
  APP_CODE_VERSION  optional: a branch, tag or commit sha

Output keys:
  current_type  "link", "other" (something that is not a symlink) or "none"
  current       the release name current points at ("" when it is not a link)
  previous      the release name previous points at ("")
  releases      {release name: the sha in its REVISION, "" when missing}, hidden directories excluded
  leftovers     the releases/.tmp-* directories an interrupted build left
  stamp         the host's UTC time, YYYYmmddHHMMSS (the start of a new release's name)
  sha           the commit APP_CODE_VERSION resolves to ("" when unknown), if a version was given
  release       the release holding that commit, current's first ("" when none), if a version was given

A base directory that does not exist yet reads as empty (check mode on a new host).
"""

import json
import os
import subprocess
import time
from pathlib import Path


def link_name(path: Path) -> str:
    """The last component of a symlink's target: the release name; "" when path is no symlink."""
    return os.path.basename(os.readlink(path)) if path.is_symlink() else ""


def revision(release: Path) -> str:
    try:
        return (release / "REVISION").read_text().strip()
    except OSError:
        return ""


def resolve(cache: str, version: str) -> str:
    """The commit sha the version names in the cache ("" when it names none, or there is no cache)."""
    command = ["git", f"--git-dir={cache}", "rev-parse", "--verify", "--quiet", f"{version}^{{commit}}"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError:
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


def main() -> None:
    root = Path(os.environ["APP_CODE_ROOT"])
    current = root / "current"
    releases_dir = root / "releases"
    entries = [e for e in os.scandir(releases_dir) if e.is_dir(follow_symlinks=False)] if releases_dir.is_dir() else []
    state = {
        "current_type": "link" if current.is_symlink() else "other" if os.path.lexists(current) else "none",
        "current": link_name(current),
        "previous": link_name(root / "previous"),
        "releases": {e.name: revision(Path(e.path)) for e in entries if not e.name.startswith(".")},
        "leftovers": sorted(e.name for e in entries if e.name.startswith(".tmp-")),
        "stamp": time.strftime("%Y%m%d%H%M%S", time.gmtime()),
    }
    version = os.environ.get("APP_CODE_VERSION", "")
    if version:
        sha = resolve(os.environ["APP_CODE_CACHE"], version)
        holding = sorted(name for name, rev in state["releases"].items() if sha and rev == sha)
        state["sha"] = sha
        state["release"] = state["current"] if state["current"] in holding else (holding[-1] if holding else "")
    print(json.dumps(state))


if __name__ == "__main__":
    main()
