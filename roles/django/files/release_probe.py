"""The files of a release the role looks for, in one call, as one JSON object on stdout (the last line).

Run by the host's python3 over raw (tasks/validate_release.yml), with one argument, a JSON object:
  paths     directories to look in (one that does not exist is skipped)
  patterns  shell patterns a name must match (one of them), as ansible.builtin.find's patterns
  recurse   whether to look below the directories too (symlinked directories are not followed)
  checksum  whether to give each regular file's sha1
Like ansible.builtin.find with file_type any and hidden false: a name starting with "." is not reported.
Prints {"files": [{"path", "mode" ("0640"), "pw_name", "gr_name", "isreg", "islnk", and "checksum" for a regular
file when asked}]}. Reads only.
"""

import fnmatch
import grp
import hashlib
import json
import os
import pwd
import stat
import sys


def _sha1(path: str) -> str:
    digest = hashlib.sha1()  # ansible.builtin.find's checksum, compared with a rendered file's
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _name(lookup, number: int) -> str:
    try:
        return lookup(number)[0]
    except KeyError:
        return str(number)


def _entry(path: str, checksum: bool) -> dict | None:
    try:
        info = os.lstat(path)
    except OSError:
        return None
    found = {
        "path": path,
        "mode": f"{stat.S_IMODE(info.st_mode):04o}",
        "pw_name": _name(pwd.getpwuid, info.st_uid),
        "gr_name": _name(grp.getgrgid, info.st_gid),
        "isreg": stat.S_ISREG(info.st_mode),
        "islnk": stat.S_ISLNK(info.st_mode),
    }
    if checksum and found["isreg"]:
        found["checksum"] = _sha1(path)
    return found


def main(spec: dict) -> dict:
    files = []
    for top in spec["paths"]:
        for root, dirs, names in os.walk(top, followlinks=False):
            for name in sorted(names + dirs):
                if name.startswith(".") or not any(fnmatch.fnmatch(name, pattern) for pattern in spec["patterns"]):
                    continue
                entry = _entry(os.path.normpath(os.path.join(root, name)), spec["checksum"])
                if entry:
                    files.append(entry)
            if not spec["recurse"]:
                break
    return {"files": files}


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
