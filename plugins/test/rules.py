"""The naming rules every role and the site's contract share, written once (Jinja tests).

Used with their fully qualified names, e.g. `app_name is djangoops.django.system_name`:

- `system_name`: a user, group or app name useradd accepts (`^[a-z_][a-z0-9_-]{0,31}$`); it also
  names /srv/<name>, /etc/<name>, systemd units and, by default, the database and its owner.
- `domain_name`: a host name per RFC 1123 (labels of 1-63 letters, digits and inner hyphens, 253
  characters at most, not all-numeric at the end), without scheme, path, port or trailing dot.
  `domain_name(wildcard=True)` also accepts one leading `*.` label.
- `django_allowed_host`: an item of Django's ALLOWED_HOSTS: a domain name, `.domain` (the domain and
  its subdomains), an IP address or `*`; never a scheme, path or port.
- `port`: an integer (or its decimal string) from 1 to 65535.
- `absolute_path`: an absolute POSIX path without `..` or `.` segments, empty segments or
  whitespace, and without a trailing slash (except `/` itself is refused: no role owns it).
- `relative_path`: the same rules for a path inside another one (empty = that directory itself).
- `python_dotted`: a dotted Python module path (`mysite.settings`).
- `wsgi_app`: `module.path:variable` (gunicorn's and Django's WSGI application form).
- `env_name`: an environment variable name (`[A-Za-z_][A-Za-z0-9_]*`).
- `postgresql_identifier`: a name PostgreSQL takes unquoted and community.postgresql cannot
  mis-quote: starts with a letter or `_`, letters, digits, `_`, at most 63 characters.
- `postgresql_listen_address`: an item of listen_addresses (IP address, host name, `*`).
- `postgresql_hba_address`: the address field of a pg_hba.conf rule (IP address, CIDR, host
  name, `.domain`, `all`, `samehost`, `samenet`).
- `ip_network`: an IPv4 or IPv6 address, or a network in CIDR form without host bits set
  (`10.0.0.0/24`, not `10.0.0.5/24`); `ip_network(4)` / `ip_network(6)` only that family.
- `ip_in_networks(networks)`: an IP address inside one of `networks` (addresses or CIDR networks,
  as `ip_network` accepts; an IPv4-mapped IPv6 address counts as its IPv4 address).
- `debian_package`: a Debian package name, optionally with `=version` (Debian policy 5.6.1).
- `git_repository`: a repository URL git accepts: https://host/path, ssh://[user@]host[:port]/path,
  git://host/path, file:///path, user@host:path (scp form) or an absolute path; no spaces.
- `git_revision`: a branch, tag or commit name that cannot be mistaken for an option and has no
  revision-syntax characters (`~ ^ : ? * [ \\`).
"""

import ipaddress
import re

_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_HOSTNAME = re.compile(rf"^{_LABEL}(\.{_LABEL})*\.?$")
_SYSTEM_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}\Z")
_PYTHON_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
_WSGI_APP = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_.]*(\(\))?\Z")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
_PG_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}\Z")
_DEBIAN_PACKAGE = re.compile(r"^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+:~-]+)?\Z")
_PATH_SEGMENT = re.compile(r"^[^\s/]+\Z")
_GIT_REPOSITORY = re.compile(
    r"^((https?|ssh|git|git\+ssh|ssh\+git)://[^/\s]+/\S+|file:///\S+"
    r"|[^@\s/:-][^@\s/:]*@[A-Za-z0-9][A-Za-z0-9.-]*:(?!//)\S+|/\S+)\Z"
)
_GIT_REVISION = re.compile(r"^[^-\s~^:?*\[\\][^\s~^:?*\[\\]*\Z")
_IP_NETWORK = re.compile(r"^[0-9A-Fa-f.:]+(/[0-9]{1,3})?\Z")


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


def system_name(value: object) -> bool:
    return isinstance(value, str) and bool(_SYSTEM_NAME.match(value))


def domain_name(value: object, wildcard: bool = False) -> bool:
    if not isinstance(value, str) or value.endswith("."):
        return False
    if wildcard and value.startswith("*."):
        value = value[2:]
    return _is_hostname(value)


def django_allowed_host(value: object) -> bool:
    if not isinstance(value, str):
        return False
    return value == "*" or _is_ip(value) or domain_name(value.removeprefix("."))


def port(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return isinstance(value, int) and 1 <= value <= 65535


def _segments_ok(segments: list[str]) -> bool:
    return all(_PATH_SEGMENT.match(s) and s not in (".", "..") for s in segments)


def absolute_path(value: object) -> bool:
    if not isinstance(value, str) or not value.startswith("/") or value == "/" or value.endswith("/"):
        return False
    return _segments_ok(value[1:].split("/"))


def relative_path(value: object) -> bool:
    if not isinstance(value, str):
        return False
    if value == "":
        return True
    if value.startswith("/") or value.endswith("/"):
        return False
    return _segments_ok(value.split("/"))


def python_dotted(value: object) -> bool:
    return isinstance(value, str) and bool(_PYTHON_DOTTED.match(value))


def wsgi_app(value: object) -> bool:
    return isinstance(value, str) and bool(_WSGI_APP.match(value))


def env_name(value: object) -> bool:
    return isinstance(value, str) and bool(_ENV_NAME.match(value))


def postgresql_identifier(value: object) -> bool:
    return isinstance(value, str) and bool(_PG_IDENTIFIER.match(value))


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


def _network(value: object) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    # A prefix length only: nft takes no netmask form (10.0.0.0/255.0.0.0) and no zone (fe80::1%eth0).
    if not isinstance(value, str) or not _IP_NETWORK.match(value):
        return None
    try:
        # strict: 10.0.0.5/24 is refused (host bits set), it is not the network the user meant
        return ipaddress.ip_network(value, strict=True)
    except ValueError:
        return None


def ip_network(value: object, version: int | None = None) -> bool:
    network = _network(value)
    return network is not None and (version is None or network.version == int(version))


def ip_in_networks(value: object, networks: object) -> bool:
    if not isinstance(value, str) or not isinstance(networks, (list, tuple)):
        return False
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any((network := _network(n)) is not None and address in network for n in networks)


def debian_package(value: object) -> bool:
    return isinstance(value, str) and bool(_DEBIAN_PACKAGE.match(value))


def git_repository(value: object) -> bool:
    return isinstance(value, str) and bool(_GIT_REPOSITORY.match(value))


def git_revision(value: object) -> bool:
    return isinstance(value, str) and bool(_GIT_REVISION.match(value))


class TestModule:
    def tests(self) -> dict:
        return {
            "system_name": system_name,
            "domain_name": domain_name,
            "django_allowed_host": django_allowed_host,
            "port": port,
            "absolute_path": absolute_path,
            "relative_path": relative_path,
            "python_dotted": python_dotted,
            "wsgi_app": wsgi_app,
            "env_name": env_name,
            "postgresql_identifier": postgresql_identifier,
            "postgresql_listen_address": postgresql_listen_address,
            "postgresql_hba_address": postgresql_hba_address,
            "ip_network": ip_network,
            "ip_in_networks": ip_in_networks,
            "debian_package": debian_package,
            "git_repository": git_repository,
            "git_revision": git_revision,
        }
