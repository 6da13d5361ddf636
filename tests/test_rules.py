"""The shared naming rules (plugins/test/rules.py), and that roles use them instead of their own copies."""

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("rules", ROOT / "plugins" / "test" / "rules.py")
rules = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rules)


@pytest.mark.parametrize("value", ["notes", "my-site", "_svc", "a" * 32])
def test_system_name_accepts(value):
    assert rules.system_name(value)


@pytest.mark.parametrize("value", ["Notes", "1site", "a" * 33, "my site", "", "x$", None, "notes\n"])
def test_system_name_refuses(value):
    assert not rules.system_name(value)


@pytest.mark.parametrize("value", ["example.org", "www.example.org", "localhost", "a-b.example", "x" * 63 + ".org"])
def test_domain_name_accepts(value):
    assert rules.domain_name(value)


@pytest.mark.parametrize(
    "value",
    [
        "https://example.org",
        "example.org/path",
        "example.org:8443",
        "*.example.org",
        "x" * 64 + ".org",
        "-bad.org",
        "bad-.org",
        "ex ample.org",
        "example.org.",
        "10.0.0.1",
        "",
        ".example.org",
    ],
)
def test_domain_name_refuses(value):
    assert not rules.domain_name(value)


def test_domain_name_wildcard_only_when_asked():
    assert rules.domain_name("*.example.org", wildcard=True)
    assert not rules.domain_name("*.example.org")
    assert not rules.domain_name("a.*.example.org", wildcard=True)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (1, True),
        (65535, True),
        ("8000", True),
        (0, False),
        (70000, False),
        ("80a", False),
        (True, False),
        (-1, False),
        (8.5, False),
    ],
)
def test_port(value, ok):
    assert rules.port(value) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("/srv/notes", True),
        ("/etc/notes/env", True),
        ("/", False),
        ("/srv/../etc", False),
        ("/srv/./x", False),
        ("srv/notes", False),
        ("/srv/notes/", False),
        ("/srv//notes", False),
        ("/srv/my app", False),
    ],
)
def test_absolute_path(value, ok):
    assert rules.absolute_path(value) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [("", True), ("example", True), ("src/app", True), ("../x", False), ("/abs", False), ("a/../b", False)],
)
def test_relative_path(value, ok):
    assert rules.relative_path(value) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("app", True),
        ("_x1", True),
        ("a" * 63, True),
        ("a" * 64, False),
        ('app"; DROP', False),
        ("my-app", False),
        ("1app", False),
        ("", False),
    ],
)
def test_postgresql_identifier(value, ok):
    assert rules.postgresql_identifier(value) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("mysite.wsgi:application", True),
        ("app:create_app()", True),
        ("mysite.wsgi", False),
        ("my site:app", False),
        (":app", False),
    ],
)
def test_wsgi_app(value, ok):
    assert rules.wsgi_app(value) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("example.org", True),
        (".example.org", True),
        ("*", True),
        ("10.0.0.1", True),
        ("::1", True),
        ("https://example.org", False),
        ("example.org:443", False),
    ],
)
def test_django_allowed_host(value, ok):
    assert rules.django_allowed_host(value) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("libpq-dev", True),
        ("g++", True),
        ("python3.11-dev", True),
        ("nginx=1.22.1-9", True),
        ("Bad", False),
        ("-x", False),
        ("a b", False),
    ],
)
def test_debian_package(value, ok):
    assert rules.debian_package(value) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("https://git.example.org/shop.git", True),
        ("ssh://git@git.example.org:2222/shop.git", True),
        ("git@github.com:example/shop.git", True),
        ("file:///srv/git/notes.git", True),
        ("/srv/git/notes.git", True),
        ("ext::sh -c touch% /tmp/pwned", False),
        ("-uhttps://x/y", False),
        ("https://git.example.org/a b", False),
        ("git.example.org/shop.git", False),
        ("", False),
    ],
)
def test_git_repository(value, ok):
    assert rules.git_repository(value) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("main", True),
        ("v1.2.3", True),
        ("feature/login", True),
        ("0123abcd" * 5, True),
        ("--upload-pack=touch", False),
        ("main~1", False),
        ("HEAD^", False),
        ("a:b", False),
        ("two words", False),
        ("", False),
    ],
)
def test_git_revision(value, ok):
    assert rules.git_revision(value) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("10.0.0.11", True),
        ("10.0.0.0/24", True),
        ("0.0.0.0/0", True),
        ("2001:db8::/32", True),
        ("::/0", True),
        ("fe80::1", True),
        ("10.0.0.5/24", False),  # host bits set: not the network the user meant
        ("10.0.0.0/255.255.255.0", False),  # netmask form: nft takes a prefix length only
        ("10.0.0.1/33", False),
        ("fe80::1%eth0", False),  # a zone is not an nft address
        ("010.0.0.1", False),
        ("app1.example.org", False),
        (" 10.0.0.1", False),
        ("", False),
        (None, False),
        (["10.0.0.1"], False),
    ],
)
def test_ip_network(value, ok):
    assert rules.ip_network(value) is ok


@pytest.mark.parametrize(
    ("value", "version", "ok"),
    [
        ("10.0.0.0/8", 4, True),
        ("10.0.0.0/8", 6, False),
        ("2001:db8::1", 6, True),
        ("2001:db8::1", 4, False),
        ("::ffff:10.0.0.1", 6, True),  # written as IPv6, so it goes into the IPv6 rules
    ],
)
def test_ip_network_of_one_family(value, version, ok):
    assert rules.ip_network(value, version) is ok


@pytest.mark.parametrize(
    ("value", "networks", "ok"),
    [
        ("10.0.0.5", ["10.0.0.0/24"], True),
        ("10.0.0.5", ["10.0.0.5"], True),
        ("10.0.1.5", ["10.0.0.0/24"], False),
        ("10.0.1.5", ["10.0.0.0/24", "0.0.0.0/0"], True),
        ("10.0.1.5", ["::/0"], False),  # an IPv6 network never holds an IPv4 client
        ("::ffff:10.0.0.5", ["10.0.0.0/24"], True),  # sshd may report an IPv4 client mapped
        ("2001:db8::7", ["2001:db8::/64"], True),
        ("2001:db8:1::7", ["2001:db8::/64"], False),
        ("UNKNOWN", ["0.0.0.0/0", "::/0"], False),  # sshd -i over a pipe: no address
        ("10.0.0.5", ["10.0.0.5/24"], False),  # a refused network matches nothing
        ("10.0.0.5", "10.0.0.0/24", False),
        ("10.0.0.5", [], False),
    ],
)
def test_ip_in_networks(value, networks, ok):
    assert rules.ip_in_networks(value, networks) is ok


def test_closest_name_suggests_a_close_setting_only():
    spec = importlib.util.spec_from_file_location("contract", ROOT / "plugins" / "filter" / "contract.py")
    contract = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(contract)
    known = ["app_tls", "app_domains", "app_health_check_path", "app_keep_releases"]
    assert contract.closest_name("app_tsl", known) == "app_tls"
    assert contract.closest_name("app_domain", known) == "app_domains"
    assert contract.closest_name("app_helth_check_path", known) == "app_health_check_path"
    assert contract.closest_name("app_zzzzzzzzzzzzzz", known) == ""


def test_no_role_writes_its_own_copy_of_a_shared_rule():
    # The system-name and identifier regexes live in plugins/test/rules.py only.
    copies = re.compile(r"\[a-z_\]\[a-z0-9_-\]|\[A-Za-z_\]\[A-Za-z0-9_\]\*\$'\)")
    found = [str(p.relative_to(ROOT)) for p in (ROOT / "roles").rglob("*.yml") if copies.search(p.read_text())]
    assert found == [], f"these files repeat a rule of plugins/test/rules.py: {found}"
