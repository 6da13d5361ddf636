"""Jinja tests that tell valid PostgreSQL addresses from typos, before anything is changed.

`x is postgresql_listen_address`: an item of listen_addresses (IP address, host name, `*`).
`x is postgresql_hba_address`: the address field of a pg_hba.conf rule (IP address, CIDR, host
name, `.domain`, `all`, `samehost`, `samenet`).
"""

import ipaddress
import re

_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_HOSTNAME = re.compile(rf"^{_LABEL}(\.{_LABEL})*\.?$")


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _is_hostname(value: str) -> bool:
    # A name whose last label is all digits is a mistyped IPv4 address, not a host name.
    if len(value) > 253 or not _HOSTNAME.match(value):
        return False
    return not value.rstrip(".").rsplit(".", 1)[-1].isdigit()


def postgresql_listen_address(value: object) -> bool:
    if not isinstance(value, str):
        return False
    return value == "*" or _is_ip(value) or _is_hostname(value)


def postgresql_hba_address(value: object) -> bool:
    if not isinstance(value, str):
        return False
    if value in ("all", "samehost", "samenet"):
        return True
    if "/" in value:
        try:
            # strict: 10.0.0.5/24 is refused (host bits set), it is not the network the user meant
            ipaddress.ip_network(value, strict=True)
        except ValueError:
            return False
        return True
    if _is_ip(value):
        return True
    return _is_hostname(value.removeprefix("."))


class TestModule:
    def tests(self) -> dict:
        return {
            "postgresql_listen_address": postgresql_listen_address,
            "postgresql_hba_address": postgresql_hba_address,
        }
