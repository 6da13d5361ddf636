"""Compare a role's meta/argument_specs.yml with its defaults/main.yml (one source of truth)."""

from pathlib import Path
from typing import Any

import yaml

_MISSING = object()


def _load(path: Path) -> Any:
    with path.open(encoding="utf-8") as stream:
        return yaml.safe_load(stream)


def role_disagreements(role: Path) -> list[str]:
    """Every way the role's argument specs and defaults disagree, as readable sentences."""
    specs_file = role / "meta" / "argument_specs.yml"
    defaults_file = role / "defaults" / "main.yml"
    if not specs_file.is_file():
        return [f"{role.name}: meta/argument_specs.yml is missing"]
    defaults: dict[str, Any] = (_load(defaults_file) or {}) if defaults_file.is_file() else {}
    entry_points: dict[str, Any] = (_load(specs_file) or {}).get("argument_specs") or {}
    if "main" not in entry_points:
        return [f"{role.name}: argument_specs has no 'main' entry point"]

    problems = []
    main_options = entry_points["main"].get("options") or {}
    for name in defaults:
        if name not in main_options:
            problems.append(f"{role.name}: default {name} is not documented in the main entry point")
    for entry, spec in entry_points.items():
        for name, option in (spec.get("options") or {}).items():
            where = f"{role.name}: {entry}: {name}"
            if not option.get("description"):
                problems.append(f"{where} has no description")
            spec_default = option.get("default", _MISSING)
            if name in defaults:
                if option.get("required"):
                    problems.append(f"{where} is required but has a default in defaults/main.yml")
                elif spec_default is _MISSING:
                    problems.append(f"{where} documents no default; defaults/main.yml has {defaults[name]!r}")
                elif spec_default != defaults[name]:
                    problems.append(
                        f"{where} default {spec_default!r} differs from defaults/main.yml {defaults[name]!r}"
                    )
            elif not option.get("required") and not name.startswith("__"):
                problems.append(f"{where} is optional but missing from defaults/main.yml")
    return problems
