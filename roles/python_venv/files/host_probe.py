"""Everything the role reads on the host, in one call, as one JSON object on stdout.

Run by the host's python3 (Ansible needs it anyway) with one argument, a JSON object:
  python    the interpreter of the virtualenvs ("python_version" is "" when it is missing or fails)
  owner, group   the virtualenvs' owner and group (reported as existing or not)
  files     regular files to checksum (the requirements file, a uv project's two files)
  paths     paths to look at (the wheelhouse, the CA bundle)
  root      the virtualenvs' root: its completed virtualenvs (a marker file in each), with their mtime and
            the packages their build added
  marker, added   the file names of the marker and of that record
  releases  the directory of the app's releases ("" for none): the targets of the links at the top of
            each release, after the root's own real path
  links     symlinks to look at (optional): each one's target ("" when it is not a link) and owner and group
Reads only.
"""

import grp
import hashlib
import json
import os
import pwd
import subprocess
import sys


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _exists(lookup, name: str) -> bool:
    try:
        lookup(name)
    except KeyError:
        return False
    return True


def _python_version(python: str) -> str:
    try:
        found = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return ""
    return found.stdout.strip() if found.returncode == 0 else ""


def _venvs(root: str, marker: str, added: str) -> list[dict]:
    """The completed virtualenvs under root: {name, mtime (the marker's), added (None when not recorded)}."""
    found = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return found
    for entry in entries:
        marker_path = os.path.join(entry.path, marker)
        if not entry.is_dir(follow_symlinks=False) or not os.path.isfile(marker_path):
            continue
        try:
            with open(os.path.join(entry.path, added), encoding="utf-8") as stream:
                record = json.load(stream)
        except (OSError, ValueError):
            record = None
        found.append({"name": entry.name, "mtime": os.stat(marker_path).st_mtime, "added": record})
    return found


def _release_links(releases: str, root: str) -> list[str]:
    """The root's real path, then the real path of every link at the top of each release."""
    if not releases or not os.path.isdir(releases):
        return []
    targets = [os.path.realpath(root)]
    for release in sorted(os.scandir(releases), key=lambda entry: entry.name):
        if not release.is_dir(follow_symlinks=False):
            continue
        for entry in os.scandir(release.path):
            if entry.is_symlink():
                targets.append(os.path.realpath(entry.path))
    return targets


def _link(path: str) -> dict:
    """A symlink's own target, owner and group (of the link, not of what it points at)."""
    try:
        st = os.lstat(path)
        target = os.readlink(path)
    except OSError:
        return {"target": "", "owner": "", "group": ""}
    try:
        owner = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        owner = str(st.st_uid)
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = str(st.st_gid)
    return {"target": target, "owner": owner, "group": group}


def main(spec: dict) -> dict:
    files = {}
    for path in spec["files"]:
        isreg = os.path.isfile(path)
        files[path] = {"isreg": isreg, "sha256": _sha256(path) if isreg else ""}
    return {
        "python_version": _python_version(spec["python"]),
        "owner_exists": _exists(pwd.getpwnam, spec["owner"]),
        "group_exists": _exists(grp.getgrnam, spec["group"]),
        "files": files,
        "paths": {path: {"isdir": os.path.isdir(path), "isreg": os.path.isfile(path)} for path in spec["paths"]},
        "venvs": _venvs(spec["root"], spec["marker"], spec["added"]),
        "release_links": _release_links(spec["releases"], spec["root"]),
        "links": {path: _link(path) for path in spec.get("links", [])},
    }


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
