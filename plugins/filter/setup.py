"""The fingerprint of a role's host setup (packages, users, directories, units), for `<role>_setup: changed`.

- `setup_fingerprint(inputs, role_path)`: a sha256 of the role's inputs as this run resolved them (a
  dict: name -> value) and of the role's own files (tasks, templates, files, defaults, vars, handlers,
  meta; not README.md). Recorded on the host after a setup; a later run with the same fingerprint
  knows that the same role code already set the host up with the same inputs. `role_path` may be a
  list of directories (the app role's input checks: the roles whose checks it runs, and the plugins).
- `setup_inputs(argument_spec, left_out, secrets=False)`: the names of the options in the role's argument
  spec (the text of meta/argument_specs.yml, entry point `main`) that the setup can depend on: every option
  but the secrets (no_log, or with a no_log sub-option such as a password in a dict: the setup never reads
  them, and no hash of them is left on the host) and the ones in `left_out` (those that change with each
  deploy, such as the release's path). `secrets=True` keeps the secrets (input checks read them; their
  fingerprint is kept where only root reads it).
- `setup_runs(mode, record, fingerprint, probe)`: whether a role's host setup runs in this run, for
  `<role>_setup` `mode`: `always`; `changed` when the recorded fingerprint (`record`, the role's local fact)
  differs from this run's; `verified` also when the digest of the state read now (`probe`, the registered
  result of `djangoops.django.host_state`, skipped or absent: {}) differs from the one recorded. With
  `renew_before` (seconds), `changed` and `verified` also run it when a certificate expiry recorded in the record's
  `not_after` (path -> ISO 8601, host_state's `not_after` after the setup) falls within that many seconds from
  now: decided on the controller, so a setup that renews certificates runs again in time without reading the host.
- `packages_missing(names, facts)`: the names in `names` that the host's facts (`ansible_facts`) do not
  list as installed packages: all of them when the run read no package facts (`ansible.builtin.package_facts`;
  site.yml's preflight reads them on a host it provisioned before). A role skips its apt task when none is
  missing. A name with a version (`pkg=1.2`) or an architecture is never listed, so apt decides.
"""

import hashlib
import json
import os
from datetime import UTC, datetime, timedelta

import yaml

_SKIPPED_FILES = {"README.md"}
# libyaml's loader when PyYAML has it: about 10x faster on an argument spec, read by every role in every run.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _files_digest(role_path: str) -> str:
    digest = hashlib.sha256()
    for directory, dirs, files in os.walk(role_path):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for name in sorted(files):
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, role_path)
            if relative in _SKIPPED_FILES or name.startswith(".") or name.endswith(".pyc"):
                continue
            with open(path, "rb") as handle:
                content = handle.read()
            digest.update(relative.encode() + b"\0" + hashlib.sha256(content).hexdigest().encode() + b"\n")
    return digest.hexdigest()


def setup_fingerprint(inputs: dict, role_path: str | list) -> str:
    if not isinstance(inputs, dict):
        raise TypeError(f"setup_fingerprint expects a dict of inputs, got {type(inputs).__name__}")
    paths = [str(path) for path in role_path] if isinstance(role_path, (list, tuple)) else [str(role_path)]
    for path in paths:
        if not os.path.isdir(path):
            raise ValueError(f"setup_fingerprint: {path} is not a role directory")
    files = "\n".join(_files_digest(path) for path in paths)
    text = json.dumps(inputs, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256((files + "\n" + text).encode()).hexdigest()


def setup_inputs(argument_spec: str, left_out: list, secrets: bool = False) -> list:
    options = (yaml.load(str(argument_spec), Loader=_SAFE_LOADER) or {})["argument_specs"]["main"].get("options") or {}
    skipped = set(left_out or [])
    return sorted(name for name, spec in options.items() if name not in skipped and (secrets or not _secret(spec)))


def _secret(spec: dict | None) -> bool:
    """Whether an option is a secret or holds one (a no_log sub-option, e.g. a password in a dict)."""
    spec = spec or {}
    return bool(spec.get("no_log")) or any(_secret(sub) for sub in (spec.get("options") or {}).values())


def _expires_within(not_after: dict, seconds: int, now: datetime | None) -> bool:
    """Whether any of the recorded expiries (path -> ISO 8601) falls within `seconds` from `now`; one that
    does not parse counts as expiring."""
    limit = (now or datetime.now(UTC)) + timedelta(seconds=int(seconds))
    for value in (not_after or {}).values():
        try:
            ends = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return True
        if ends.tzinfo is None or ends <= limit:
            return True
    return False


def setup_runs(
    mode: str,
    record: dict,
    fingerprint: str,
    probe: dict | None = None,
    renew_before: int = 0,
    now: datetime | None = None,
) -> bool:
    if mode not in ("always", "changed", "verified"):
        raise ValueError(f"setup_runs: the mode must be always, changed or verified, got {mode!r}")
    record = record or {}
    if mode == "always" or record.get("fingerprint", "") != fingerprint:
        return True
    if renew_before and _expires_within(record.get("not_after"), renew_before, now):
        return True
    return mode == "verified" and (probe or {}).get("digest", "") != record.get("state", "")


def packages_missing(names: list, facts: dict) -> list:
    installed = (facts or {}).get("packages") or {}
    return [name for name in names if name not in installed]


class FilterModule:
    def filters(self) -> dict:
        return {
            "setup_fingerprint": setup_fingerprint,
            "setup_inputs": setup_inputs,
            "setup_runs": setup_runs,
            "packages_missing": packages_missing,
        }
