#!/usr/bin/python
"""Read, in one call, the state a role's host setup left: packages, accounts, paths, files, systemd units."""

import contextlib
import grp
import hashlib
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile

try:
    from ansible.module_utils.basic import AnsibleModule
except ImportError:  # run as a script by the host's python3, which has no Ansible (ScriptHost)
    AnsibleModule = None

# openssl prints dates in the C locale whatever the host's.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

DOCUMENTATION = r"""
---
module: host_state
short_description: A digest of the state a role's host setup manages, read in one call
description:
  - Reads the installed state of packages, the entries of users and groups, the type, owner, group and mode
    of paths (and the content of files), and the state of systemd units; returns them and a sha256 digest of
    them.
  - A role records the digest after its setup and, on a later run whose setup fingerprint is unchanged
    (C(<role>_setup=verified)), reads it again; a different digest means the host drifted and the setup runs.
  - Reads only, unless I(record_to) names a record to write; supports check mode (which writes nothing).
  - The file also runs as a script with the host's python3 and the options as one JSON object, for a call over
    M(ansible.builtin.raw) without a module around it (the roles' reads on every run). Given the file's text and
    that object (C(python3 -c <text> <object>)), it prints the same answer as JSON.
version_added: "1.0.0"
author: djangoops
options:
  packages:
    description:
      - Debian package names; each reads as its dpkg status and version (C(install ok installed 1.22.1-9)) or
        C(absent); an upgrade changes the state too (a role's templates may depend on the version).
    type: list
    elements: str
    default: []
  users:
    description: User names; each reads as its C(passwd) entry (uid, gid, home, shell) or C(absent).
    type: list
    elements: str
    default: []
  groups:
    description: Group names; each reads as its C(group) entry (gid) or C(absent).
    type: list
    elements: str
    default: []
  paths:
    description:
      - Paths read without their content (directories, files that the app writes to); each reads as its
        type, owner, group and mode (or, for a link, its target), whether it exists (a dangling link does not), or
        C(absent).
    type: list
    elements: str
    default: []
  files:
    description: Files read with their content; as I(paths), plus the sha256 of the content.
    type: list
    elements: str
    default: []
  certificates:
    description:
      - PEM certificates; each reads as whether it is still valid I(certificates_valid_for) seconds from now
        (C(openssl x509 -checkend)), or C(absent). The state changes once a certificate comes that close to its
        expiry, so a setup that renews certificates runs again then.
    type: list
    elements: str
    default: []
  certificates_valid_for:
    description: Seconds from now at which I(certificates) must still be valid.
    type: int
    default: 0
  units:
    description:
      - systemd units whose unit file state (enabled, disabled, ...) and load state are read.
    type: list
    elements: str
    default: []
  active_units:
    description:
      - systemd units read as I(units) and, in addition, whether they are active (for units the setup starts
        and that stay up, such as a socket; not for a service that a socket starts on demand).
    type: list
    elements: str
    default: []
  record_to:
    description:
      - A file (a role's local fact) to write, after the read, I(record) into with the answer's C(state) (the
        I(digest)) and C(not_after), as one JSON object owned by root, mode 0644, its directory made (0755) when
        missing. Written atomically and only when its content (or owner, or mode) differs; not in check mode.
      - What a role writes after its host setup, so that reading the state the setup left and recording it is one
        call. Bookkeeping, not a change of the host, so I(changed) stays false.
    type: path
  record:
    description: What I(record_to) holds besides C(state) and C(not_after), e.g. the setup's fingerprint.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Read the state of gunicorn's setup
  djangoops.django.host_state:
    files: [/etc/notes/gunicorn.conf.py, /etc/systemd/system/notes.socket]
    paths: [/etc/notes]
    active_units: [notes.socket]
  register: state
"""

RETURN = r"""
digest:
  description: sha256 of I(state) as canonical JSON.
  type: str
  returned: always
state:
  description: What was read, by kind and name.
  type: dict
  returned: always
not_after:
  description:
    - The expiry of each readable certificate in I(certificates), ISO 8601 UTC (C(2026-12-05T12:00:00Z)), read by
      the same C(openssl) call. Not part of I(state) nor of I(digest), which stay the same from one day to the next.
    - A role records it with the digest, and a later run decides on the controller whether a certificate comes
      too close to its expiry, without reading the host again.
  type: dict
  returned: always
  sample: {"/etc/postgresql/djangoops-ssl/ca.crt": "2036-12-03T10:00:00Z"}
recorded:
  description: Whether I(record_to) was written (false when it already held the same, and in check mode).
  type: bool
  returned: when I(record_to) is given
"""


def _path_state(path, with_content):
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return "absent"
    try:
        owner = pwd.getpwuid(info.st_uid).pw_name
    except KeyError:
        owner = str(info.st_uid)
    try:
        group = grp.getgrgid(info.st_gid).gr_name
    except KeyError:
        group = str(info.st_gid)
    if stat.S_ISLNK(info.st_mode):
        # exists: whether the link leads somewhere (a dangling link reads differently).
        target = os.readlink(path)
        return {"type": "link", "target": target, "exists": os.path.exists(path), "owner": owner, "group": group}
    kind = "directory" if stat.S_ISDIR(info.st_mode) else "file" if stat.S_ISREG(info.st_mode) else "other"
    state = {"type": kind, "exists": True, "owner": owner, "group": group, "mode": f"{stat.S_IMODE(info.st_mode):04o}"}
    if with_content and kind == "file":
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(65536), b""):
                digest.update(chunk)
        state["sha256"] = digest.hexdigest()
    return state


def _user_state(name):
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return "absent"
    return {"uid": entry.pw_uid, "gid": entry.pw_gid, "home": entry.pw_dir, "shell": entry.pw_shell}


def _group_state(name):
    try:
        return {"gid": grp.getgrnam(name).gr_gid}
    except KeyError:
        return "absent"


def _not_after(output):
    """The notAfter line of openssl x509 -enddate (e.g. "notAfter=Dec  5 12:00:00 2026 GMT"), as ISO 8601 UTC."""
    for line in output.splitlines():
        if line.startswith("notAfter="):
            parts = line[len("notAfter=") :].split()
            if len(parts) == 5 and parts[0] in _MONTHS and parts[4] == "GMT":
                day, clock, year = int(parts[1]), parts[2], int(parts[3])
                return f"{year:04d}-{_MONTHS.index(parts[0]) + 1:02d}-{day:02d}T{clock}Z"
    return ""


def host_state(module, params, not_after=None):
    """The state asked for by `params`; `not_after`, a dict when given, receives each readable certificate's
    expiry (ISO 8601 UTC), which is not part of the state: a later run compares it with its own clock."""
    state = {}
    packages = sorted(set(params.get("packages") or []))
    if packages:
        # One dpkg-query for every package; a package dpkg never knew is left out of its output.
        query = ["dpkg-query", "-W", "-f=${Package}\t${Status} ${Version}\n", "--", *packages]
        rc, out, err = module.run_command(query)
        found = dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)
        state["packages"] = {name: found.get(name, "absent") for name in packages}
    if params.get("users"):
        state["users"] = {name: _user_state(name) for name in sorted(set(params["users"]))}
    if params.get("groups"):
        state["groups"] = {name: _group_state(name) for name in sorted(set(params["groups"]))}
    if params.get("paths"):
        state["paths"] = {path: _path_state(path, False) for path in sorted(set(params["paths"]))}
    if params.get("files"):
        state["files"] = {path: _path_state(path, True) for path in sorted(set(params["files"]))}
    if params.get("certificates"):
        state["certificates"] = {}
        for path in sorted(set(params["certificates"])):
            if not os.path.exists(path):
                state["certificates"][path] = "absent"
                continue
            seconds = str(int(params.get("certificates_valid_for") or 0))
            rc, out, err = module.run_command(
                ["openssl", "x509", "-noout", "-enddate", "-checkend", seconds, "-in", path]
            )
            # 0: still valid then; 1: expired by then (or not a certificate: openssl says so on stderr).
            state["certificates"][path] = "valid" if rc == 0 else "expiring" if not err.strip() else "unreadable"
            ends = _not_after(out)
            if not_after is not None and ends:
                not_after[path] = ends
    active = set(params.get("active_units") or [])
    units = sorted(set(params.get("units") or []) | active)
    if units:
        systemctl = module.get_bin_path("systemctl", required=True)
        rc, out, err = module.run_command(
            [systemctl, "show", "--property=Id,LoadState,UnitFileState,ActiveState", "--", *units]
        )
        if rc != 0:
            module.fail_json(msg=f"systemctl show failed: {err.strip() or out.strip()}", rc=rc)
        # One block of properties per unit, in the order asked, separated by an empty line.
        blocks = [
            dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
            for block in out.strip().split("\n\n")
        ]
        if len(blocks) != len(units):
            module.fail_json(msg=f"systemctl show answered {len(blocks)} units for {len(units)}: {out}")
        state["units"] = {}
        for name, props in zip(units, blocks, strict=True):
            unit = {"load": props.get("LoadState", ""), "file": props.get("UnitFileState", "")}
            if name in active:
                unit["active"] = props.get("ActiveState", "")
            state["units"][name] = unit
    return state


def write_record(path, record):
    """Write `record` into `path` as one line of JSON (root, 0644), atomically, unless the file holds it already.
    True when it wrote."""
    text = json.dumps(record, sort_keys=True) + "\n"
    try:
        info = os.stat(path)
        with open(path, encoding="utf-8") as stream:
            if stream.read() == text and stat.S_IMODE(info.st_mode) == 0o644 and info.st_uid == os.geteuid():
                return False
    except FileNotFoundError:
        pass
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        os.makedirs(directory)
        os.chmod(directory, 0o755)
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".host_state-")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        if os.geteuid() == 0:
            os.chown(temporary, 0, 0)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return True


def read(module, params):
    """The module's answer: digest, state and not_after; with record_to, whether it recorded them."""
    not_after = {}
    state = host_state(module, params, not_after)
    text = json.dumps(state, sort_keys=True, separators=(",", ":"))
    answer = {
        "changed": False,
        "digest": hashlib.sha256(text.encode()).hexdigest(),
        "state": state,
        "not_after": not_after,
    }
    if params.get("record_to"):
        record = {**(params.get("record") or {}), "state": answer["digest"], "not_after": not_after}
        answer["recorded"] = not getattr(module, "check_mode", False) and write_record(params["record_to"], record)
    return answer


class ScriptHost:
    """What host_state() asks of AnsibleModule, for the file run as a script: `python3 -c <this file> <params as
    JSON>`, over raw (the roles' reads on every run: no module around it, about 0.1 s against 0.3 s over SSH). It
    prints the module's answer as one JSON object, on the last line of its output; a failure exits 1."""

    def run_command(self, argv):
        done = subprocess.run(
            argv, capture_output=True, text=True, errors="replace", check=False, env={**os.environ, "LC_ALL": "C"}
        )
        return done.returncode, done.stdout, done.stderr

    def get_bin_path(self, name, required=False):
        found = shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/usr/bin:/sbin:/bin")
        if not found and required:
            self.fail_json(msg=f"Failed to find required executable {name}")
        return found

    def fail_json(self, msg, **kwargs):
        print(json.dumps({"failed": True, "msg": msg, **kwargs}))
        sys.exit(1)


def main():
    kinds = ("packages", "users", "groups", "paths", "files", "certificates", "units", "active_units")
    spec = {kind: {"type": "list", "elements": "str", "default": []} for kind in kinds}
    spec["certificates_valid_for"] = {"type": "int", "default": 0}
    spec["record_to"] = {"type": "path"}
    spec["record"] = {"type": "dict", "default": {}}
    module = AnsibleModule(
        argument_spec=spec,
        supports_check_mode=True,
    )
    module.exit_json(**read(module, module.params))


if __name__ == "__main__":
    if sys.argv[0] == "-c":
        print(json.dumps(read(ScriptHost(), json.loads(sys.argv[1]))))
    else:
        main()
