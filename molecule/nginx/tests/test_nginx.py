"""The nginx role, checked with real requests from inside the container (curl, openssl s_client).

converge.yml serves two sites: `demo` (demo.test, www.demo.test; self-signed certificate from
prepare.yml, so HTTPS; the stand-in upstream on Gunicorn's unix socket) and `fresh` (fresh.test,
www.fresh.test redirected to fresh.test; no certificate yet, so HTTP only; a stand-in upstream on
TCP). The stand-in answers with a JSON echo of the request's headers.
"""

import json
import re
import shlex
import time

import pytest

RESOLVE = " ".join(
    f"--resolve {name}:{port}:127.0.0.1"
    for name in ("demo.test", "www.demo.test", "fresh.test", "www.fresh.test", "unknown.test")
    for port in (80, 443)
)
SITE_FILE = "/etc/nginx/sites-available/demo.conf"


class Response:
    def __init__(self, raw: str) -> None:
        head, _, self.body = raw.replace("\r\n", "\n").partition("\n\n")
        status_line, *lines = head.split("\n")
        self.status = int(status_line.split()[1])
        self.headers: dict[str, list[str]] = {}
        for line in lines:
            name, _, value = line.partition(":")
            self.headers.setdefault(name.strip().lower(), []).append(value.strip())

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return ", ".join(values) if values else None


def curl(host, url: str, *args: str) -> Response:
    """One request (certificate not checked: it is self-signed), answered with a status."""
    cmd = f"curl -sS -k -i --max-time 10 {RESOLVE} {' '.join(args)} {shlex.quote(url)}"
    return Response(host.check_output(cmd))


def after_reload(host, url: str, location: str) -> Response:
    """The redirect of `url` once nginx answers with `location`, for at most 10 s: `systemctl reload nginx`
    returns when the master has the signal, and the old workers may answer a moment longer (on a loaded host)."""
    for _ in range(20):
        response = curl(host, url)
        if response.header("Location") == location:
            break
        time.sleep(0.5)
    return response


def curl_fails(host, url: str, *args: str):
    """A request the server must refuse: returns curl's result (exit status, message)."""
    return host.run(f"curl -sS -k -i --max-time 10 {RESOLVE} {' '.join(args)} {shlex.quote(url)}")


def s_client(host, *args: str):
    return host.run(f"openssl s_client -connect 127.0.0.1:443 -servername demo.test {' '.join(args)} </dev/null 2>&1")


def checksums(host) -> str:
    return host.check_output("sha256sum /etc/nginx/sites-available/* /etc/nginx/sites-enabled/*")


def config_files(host) -> str:
    return host.check_output("ls -A /etc/nginx/sites-available /etc/nginx/sites-enabled")


# --- install ---------------------------------------------------------------------------------


def test_nginx_from_debian_runs_and_is_enabled(host):
    assert host.package("nginx").is_installed
    service = host.service("nginx")
    assert service.is_running
    assert service.is_enabled


def test_distribution_default_site_is_disabled(host):
    assert not host.file("/etc/nginx/sites-enabled/default").exists


def test_whole_configuration_is_valid(host):
    assert host.run("nginx -t").rc == 0


# --- HTTP: redirect, ACME, unknown names ------------------------------------------------------


@pytest.mark.parametrize("name", ["demo.test", "www.demo.test"])
def test_http_redirects_to_https(host, name):
    response = curl(host, f"http://{name}/notes/?page=2")
    assert response.status == 301
    assert response.header("Location") == f"https://{name}/notes/?page=2"


def test_acme_challenge_answers_over_http(host):
    token = "nginx-role-test-token"
    path = f"/var/www/letsencrypt/.well-known/acme-challenge/{token}"
    host.check_output(f"mkdir -p {path.rsplit('/', 1)[0]} && echo {token}.key > {path}")
    try:
        for name in ("demo.test", "www.demo.test", "fresh.test", "www.fresh.test"):
            response = curl(host, f"http://{name}/.well-known/acme-challenge/{token}")
            assert response.status == 200, name
            assert response.body.strip() == f"{token}.key"
        missing = curl(host, "http://demo.test/.well-known/acme-challenge/absent")
        assert missing.status == 404  # not redirected, not proxied
    finally:
        host.check_output(f"rm -f {path}")


@pytest.mark.parametrize("url", ["http://unknown.test/", "http://127.0.0.1/"])
def test_unknown_host_is_closed_over_http(host, url):
    result = curl_fails(host, url)
    assert result.rc == 52, result.stderr  # empty reply: nginx closed the connection (444)


def test_unknown_host_is_refused_over_https(host):
    result = curl_fails(host, "https://unknown.test/")
    assert result.rc == 35, result.stderr  # TLS handshake refused
    assert "unrecognized name" in result.stderr


# --- static and media -------------------------------------------------------------------------


def test_hashed_static_file_is_immutable(host):
    response = curl(host, "https://demo.test/static/css/site.3a4b5c6d7e8f.css")
    assert response.status == 200
    assert response.body.rstrip("\n") == "body { color: #123456; }"
    assert response.header("Content-Type") == "text/css"
    assert response.header("Cache-Control") == "public, max-age=31536000, immutable"
    assert response.header("X-Content-Type-Options") == "nosniff"  # security headers kept in the location


def test_unhashed_static_file_gets_a_short_cache(host):
    response = curl(host, "https://demo.test/static/css/site.css")
    assert response.status == 200
    assert response.header("Cache-Control") == "public, max-age=3600"


def test_missing_static_file_is_404_from_nginx(host):
    response = curl(host, "https://demo.test/static/css/absent.3a4b5c6d7e8f.css")
    assert response.status == 404
    assert response.header("Cache-Control") is None
    assert "upstream" not in response.body


def test_media_file_is_served_with_nosniff(host):
    response = curl(host, "https://demo.test/media/uploads/report.txt")
    assert response.status == 200
    assert response.body.rstrip("\n") == "an uploaded report"
    assert response.header("X-Content-Type-Options") == "nosniff"
    assert "sandbox" in response.header("Content-Security-Policy")


def test_media_is_never_executed(host):
    response = curl(host, "https://demo.test/media/uploads/run.php")
    assert response.status == 200
    assert response.body.rstrip("\n") == "<?php echo 'executed'; ?>"  # the source, as bytes
    assert response.header("Content-Type") == "application/octet-stream"


# --- the proxy --------------------------------------------------------------------------------


def test_proxy_reaches_upstream_with_headers_set_by_nginx(host):
    response = curl(
        host,
        "https://demo.test/notes/?page=2",
        "-H 'X-Forwarded-Proto: http'",
        "-H 'X-Forwarded-For: 203.0.113.9'",
        "-H 'X-Forwarded-Host: evil.test'",
    )
    assert response.status == 200
    echo = json.loads(response.body)
    assert echo["upstream"] == "unix:/run/demo/gunicorn.sock"
    assert echo["path"] == "/notes/?page=2"
    assert echo["headers"]["x-forwarded-proto"] == ["https"]
    assert echo["headers"]["x-forwarded-for"] == ["127.0.0.1"]
    assert echo["headers"]["x-forwarded-host"] == ["demo.test"]
    assert echo["headers"]["host"] == ["demo.test"]


def test_proxied_text_is_gzipped(host):
    response = curl(host, "https://demo.test/notes/", "-H 'Accept-Encoding: gzip'", "-o /dev/null", "-D -")
    assert response.header("Content-Encoding") == "gzip"


def test_request_body_over_client_max_body_size_is_refused(host):
    host.check_output("head -c 2097152 /dev/zero > /tmp/two-megabytes")
    response = curl(host, "https://demo.test/upload/", "-X POST", "--data-binary @/tmp/two-megabytes")
    assert response.status == 413  # the scenario sets 1m
    small = curl(host, "https://demo.test/upload/", "-X POST", "--data-binary hello")
    assert small.status == 200


# --- TLS --------------------------------------------------------------------------------------


def test_tls_1_1_is_refused_by_the_server(host):
    # SECLEVEL=0 lets Debian's client offer TLS 1.1, so the refusal seen is the server's alert.
    result = s_client(host, "-tls1_1", "-cipher 'DEFAULT@SECLEVEL=0'")
    assert result.rc != 0
    assert "alert protocol version" in result.stdout


@pytest.mark.parametrize(("flag", "version"), [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")])
def test_tls_1_2_and_1_3_are_accepted(host, flag, version):
    result = s_client(host, flag)
    assert result.rc == 0, result.stdout
    assert f"New, {version}, Cipher is" in result.stdout


def test_http2_is_offered(host):
    result = host.check_output(f"curl -sS -k -o /dev/null -w '%{{http_version}}' {RESOLVE} https://demo.test/")
    assert result == "2"


def test_hsts_and_security_headers(host):
    for path in ("/notes/", "/static/robots.txt", "/media/uploads/report.txt"):
        response = curl(host, f"https://demo.test{path}")
        assert response.status == 200, path
        assert response.header("Strict-Transport-Security") == "max-age=31536000", path
        assert response.header("X-Content-Type-Options") == "nosniff", path
        assert response.header("Referrer-Policy") == "same-origin", path
        assert response.header("X-Frame-Options") == "DENY", path
        assert response.header("Server") == "nginx", path  # server_tokens off: no version


# --- maintenance --------------------------------------------------------------------------------


@pytest.fixture
def upstream_stopped(host):
    host.check_output("systemctl stop standin-demo.service")
    try:
        yield
    finally:
        host.check_output("systemctl start standin-demo.service")
        for _ in range(50):
            if host.socket("unix:///run/demo/gunicorn.sock").is_listening:
                break
            time.sleep(0.1)


def test_maintenance_page_when_the_upstream_is_down(host, upstream_stopped):
    response = curl(host, "https://demo.test/notes/")
    assert response.status == 503
    assert "<h1>Down for maintenance</h1>" in response.body
    assert response.header("Retry-After") == "30"
    assert response.header("Cache-Control") == "no-store"
    assert response.header("Strict-Transport-Security") == "max-age=31536000"
    direct = curl(host, "https://demo.test/__maintenance__.html")
    assert direct.status == 404  # an internal location: not reachable from outside


# --- a second site: HTTP only until its certificate exists, a TCP upstream --------------------


def test_site_without_certificate_serves_http_then_https_once_it_exists(host, run_playbook):
    cert_dir = "/etc/ssl/sites/fresh"
    if host.file(cert_dir).exists:  # a previous verify left it
        host.check_output(f"rm -rf {cert_dir}")
        assert run_playbook("fresh.yml", limit=host.backend.name).returncode == 0

    before = curl(host, "http://fresh.test/notes/", "-H 'X-Forwarded-Proto: https'")
    assert before.status == 200
    echo = json.loads(before.body)
    assert echo["upstream"] == "127.0.0.1:8001"
    assert echo["headers"]["x-forwarded-proto"] == ["http"]
    assert before.header("Strict-Transport-Security") is None
    assert curl_fails(host, "https://fresh.test/").rc == 35  # only the catch-all answers on 443
    alias = curl(host, "http://www.fresh.test/notes/?page=2")
    assert alias.status == 301
    assert alias.header("Location") == "http://fresh.test/notes/?page=2"

    host.check_output(
        f"mkdir -p {cert_dir} && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=fresh.test "
        f"-keyout {cert_dir}/privkey.pem -out {cert_dir}/fullchain.pem 2>/dev/null"
    )
    result = run_playbook("fresh.yml", limit=host.backend.name)
    assert result.returncode == 0, result.stdout

    redirect = curl(host, "http://fresh.test/notes/")
    assert redirect.status == 301
    assert redirect.header("Location") == "https://fresh.test/notes/"
    after = curl(host, "https://fresh.test/notes/")
    assert after.status == 200
    assert json.loads(after.body)["headers"]["x-forwarded-proto"] == ["https"]
    for url in ("http://www.fresh.test/notes/", "https://www.fresh.test/notes/"):
        alias = curl(host, url)
        assert alias.status == 301, url
        assert alias.header("Location") == "https://fresh.test/notes/", url
    served = host.run("openssl s_client -connect 127.0.0.1:443 -servername fresh.test </dev/null 2>&1").stdout
    # OpenSSL 3.0 (Debian 12) prints "CN = fresh.test", 3.5 (Debian 13) "CN=fresh.test".
    assert re.search(r"subject=.*CN ?= ?fresh\.test", served), served


def test_redirects_keep_a_published_https_port(host, run_playbook):
    # A NAT or a published container port (the demo's 8443) puts HTTPS on another port than nginx's 443.
    assert host.file("/etc/ssl/sites/fresh/fullchain.pem").exists, "needs the certificate the previous test made"
    try:
        result = run_playbook("fresh.yml", {"nginx_https_public_port": 8443}, limit=host.backend.name)
        assert result.returncode == 0, result.stdout
        for url in (
            "http://fresh.test/notes/?a=1",
            "http://www.fresh.test/notes/?a=1",
            "https://www.fresh.test/notes/?a=1",
        ):
            redirect = after_reload(host, url, "https://fresh.test:8443/notes/?a=1")
            assert redirect.status == 301, url
            assert redirect.header("Location") == "https://fresh.test:8443/notes/?a=1", url
    finally:
        assert run_playbook("fresh.yml", limit=host.backend.name).returncode == 0
    assert after_reload(host, "http://fresh.test/notes/", "https://fresh.test/notes/").header("Location") == (
        "https://fresh.test/notes/"
    )


# --- validation: nothing bad reaches nginx ----------------------------------------------------


def test_invalid_extra_directive_fails_validation_and_changes_nothing(host, run_playbook):
    before_sums, before_files = checksums(host), config_files(host)
    result = run_playbook("demo.yml", {"nginx_extra_directives": ["bogus_directive on;"]}, limit=host.backend.name)
    assert result.returncode != 0
    assert 'unknown directive "bogus_directive"' in result.stdout
    assert "nginx refused the configuration of site demo" in result.stdout
    assert checksums(host) == before_sums
    assert config_files(host) == before_files  # no backup copies left behind
    assert "bogus_directive" not in host.check_output("nginx -T 2>/dev/null")
    assert curl(host, "https://demo.test/notes/").status == 200


def test_configuration_conflicting_with_another_file_is_rolled_back(host, run_playbook):
    # Valid on its own, refused by nginx -t next to the catch-all server: the previous file comes back.
    before_sums, before_files = checksums(host), config_files(host)
    result = run_playbook(
        "demo.yml", {"nginx_extra_directives": ["listen 80 default_server;"]}, limit=host.backend.name
    )
    assert result.returncode != 0
    assert "duplicate default server" in result.stdout
    assert "Check the whole configuration with nginx -t" in result.stdout
    assert checksums(host) == before_sums
    assert config_files(host) == before_files
    assert host.run("nginx -t").rc == 0
    assert curl(host, "https://demo.test/notes/").status == 200
    assert curl_fails(host, "http://unknown.test/").rc == 52


def test_bad_input_stops_before_any_change_naming_the_variable(host, run_playbook):
    before_sums = checksums(host)
    result = run_playbook("demo.yml", {"nginx_client_max_body_size": "20 MB"}, limit=host.backend.name)
    assert result.returncode != 0
    assert "nginx_client_max_body_size must look like" in result.stdout
    assert "Install nginx from Debian's packages" not in result.stdout
    assert checksums(host) == before_sums


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("nginx_https_public_port", 70000, "nginx_https_public_port must be a port"),
        ("nginx_server_names", ["https://demo.test"], "nginx_server_names must be a non-empty list of host names"),
        ("nginx_server_names", ["demo.test/notes"], "nginx_server_names must be a non-empty list of host names"),
        ("nginx_server_names", ["a" * 64 + ".test"], "nginx_server_names must be a non-empty list of host names"),
    ],
)
def test_bad_names_and_ports_stop_before_any_change(host, run_playbook, variable, value, message):
    before_sums = checksums(host)
    result = run_playbook("demo.yml", {variable: value}, limit=host.backend.name)
    assert result.returncode != 0
    assert message in result.stdout
    assert checksums(host) == before_sums
