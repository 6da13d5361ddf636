"""Typed readers for settings that come from environment variables.

Every reader raises ImproperlyConfigured naming the variable when its value cannot be parsed,
so a typo in the environment file stops the site at start-up instead of changing its behaviour.
"""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def env_str(name: str, default: str = "") -> str:
    """Return the variable's value, or default when it is unset or empty."""
    return os.environ.get(name, "").strip() or default


def env_bool(name: str, default: bool) -> bool:
    """Parse 1/0, true/false, yes/no, on/off (any case); unset or empty gives default."""
    value = env_str(name).lower()
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {value!r}"
    )


def env_int(name: str, default: int) -> int:
    """Parse a whole number; unset or empty gives default."""
    value = env_str(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {value!r}") from None


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """Split a comma-separated value, dropping blanks; unset or empty gives default."""
    items = [item.strip() for item in env_str(name).split(",") if item.strip()]
    return items or list(default or [])
