"""letsencrypt against Pebble: issuance through nginx's webroot, no needless orders, renewal, names, self-signed.

The tests run in file order on what converge and molecule's idempotence re-run left, with a Pebble
started empty in prepare (so: once per `molecule test`). Each leaves the site served over HTTPS.
"""

import re

import pytest

SITE = "site.test"
NAMES = ["site.test", "www.site.test"]
EXTRA = "extra.site.test"
PEBBLE_CA = "/etc/pebble/cert.pem"
STABLE = "/etc/ssl/sites/site"


def served_pem(host, name: str = SITE) -> str:
    """The leaf certificate nginx presents on 443 for this name (SNI)."""
    cmd = f"openssl s_client -connect 127.0.0.1:443 -servername {name} </dev/null 2>/dev/null | openssl x509"
    return host.check_output(cmd)


def x509(host, pem: str, args: str) -> str:
    return host.check_output(f"printf '%s\\n' '{pem}' | openssl x509 -noout {args}")


def served_serial(host) -> str:
    return x509(host, served_pem(host), "-serial").split("=", 1)[1]


def names_of(host, pem: str) -> set[str]:
    return set(re.findall(r"DNS:([^,\s]+)", x509(host, pem, "-ext subjectAltName")))


def nginx_pid(host) -> str:
    return host.check_output("systemctl show nginx.service -p MainPID --value")


def pebble_orders(host) -> int:
    return int(host.check_output("journalctl -u pebble.service --no-pager | grep -c 'POST /order-plz' || true"))


def pebble_pem(host, what: str) -> str:
    """Pebble's root or intermediate (management API; regenerated at each Pebble start)."""
    return host.check_output(f"curl -sSf --cacert {PEBBLE_CA} https://localhost:15000/{what}/0")


def issued_by_pebble(host, pem: str) -> bool:
    intermediate = pebble_pem(host, "intermediates")
    host.check_output(f"printf '%s\\n' '{intermediate}' > /tmp/pebble-intermediate.pem")
    result = host.run(f"printf '%s\\n' '{pem}' | openssl verify -partial_chain -CAfile /tmp/pebble-intermediate.pem")
    return result.rc == 0 and result.stdout.strip().endswith("OK")


def converge(run_playbook, host, **extra_vars):
    return run_playbook("converge.yml", extra_vars or None, limit=host.backend.name)


def letsencrypt(run_playbook, host, **extra_vars):
    return run_playbook("letsencrypt.yml", extra_vars or None, limit=host.backend.name)


def recap_changed(stdout: str) -> int:
    return int(re.search(r"letsencrypt-debian1[0-9]+\s*:\s*ok=\d+\s+changed=(\d+)", stdout).group(1))


def test_nginx_serves_pebble_certificate_for_all_names(host):
    pem = served_pem(host)
    assert names_of(host, pem) == set(NAMES)
    assert issued_by_pebble(host, pem)
    assert "id-ecPublicKey" in x509(host, pem, "-text")  # ECDSA by default


@pytest.mark.parametrize("name", NAMES)
def test_https_verifies_against_pebble_root_for_each_name(host, name):
    host.check_output(f"curl -sSf --cacert {PEBBLE_CA} https://localhost:15000/roots/0 -o /tmp/pebble-root.pem")
    result = host.run(
        f"curl -sS -o /dev/null -w '%{{http_code}}' --cacert /tmp/pebble-root.pem "
        f"--resolve {name}:443:127.0.0.1 https://{name}/"
    )
    assert result.rc == 0, result.stderr  # TLS verified: chain and name
    assert result.stdout.strip() == "503"  # nginx's maintenance page: no app behind it in this scenario


def test_stable_paths_point_into_the_lineage(host):
    for leaf in ("fullchain.pem", "privkey.pem"):
        assert host.file(f"{STABLE}/{leaf}").is_symlink
        assert host.check_output(f"readlink {STABLE}/{leaf}") == f"/etc/letsencrypt/live/site/{leaf}"


def test_renewal_is_unattended_through_certbot_timer(host):
    assert host.service("certbot.timer").is_enabled
    assert host.service("certbot.timer").is_running
    conf = host.file("/etc/letsencrypt/renewal/site.conf").content_string
    assert "server = https://localhost:14000/dir" in conf
    assert "authenticator = webroot" in conf
    env = host.check_output("systemctl show certbot.service -p Environment --value")
    assert f"REQUESTS_CA_BUNDLE={PEBBLE_CA}" in env
    hook = host.file("/etc/letsencrypt/renewal-hooks/deploy/ansible-letsencrypt.sh")
    assert hook.mode == 0o755
    assert "systemctl reload nginx" in hook.content_string
    # No cron job besides the package's own (which stands down under systemd).
    cron = host.run("grep -rl certbot /etc/cron* /var/spool/cron 2>/dev/null").stdout.split()
    assert cron == ["/etc/cron.d/certbot"]


def test_rerun_made_no_order(host):
    # Pebble starts empty in prepare: converge ordered once, molecule's idempotence re-run (changed=0) never.
    assert pebble_orders(host) == 1
    assert host.run("ls /etc/letsencrypt/archive/site/cert*.pem | wc -l").stdout.strip() == "1"


def test_forced_renewal_by_certbot_service_is_served_without_restart(host):
    serial, pid = served_serial(host), nginx_pid(host)
    # certbot.service exactly as certbot.timer starts it (its drop-in included), forced to renew now.
    dropin = "/run/systemd/system/certbot.service.d/zz-test-force.conf"
    host.check_output(
        f"mkdir -p {dropin.rsplit('/', 1)[0]} && printf '[Service]\\nExecStart=\\n"
        "ExecStart=/usr/bin/certbot -q renew --no-random-sleep-on-renew --force-renewal\\n' "
        f"> {dropin} && systemctl daemon-reload"
    )
    try:
        result = host.run("systemctl start certbot.service")
    finally:
        host.check_output(f"rm -f {dropin} && systemctl daemon-reload")
    assert result.rc == 0, host.run("journalctl -u certbot.service --no-pager | tail -20").stdout
    new_serial = served_serial(host)
    assert new_serial != serial  # the deploy hook reloaded nginx
    assert nginx_pid(host) == pid  # reloaded, not restarted
    on_disk = host.check_output(f"openssl x509 -in {STABLE}/fullchain.pem -noout -serial").split("=", 1)[1]
    assert new_serial == on_disk


def test_self_signed_mode_serves_a_self_signed_certificate_at_the_same_paths(host, run_playbook):
    site_conf, pid = host.file("/etc/nginx/sites-available/site.conf").sha256sum, nginx_pid(host)
    result = letsencrypt(run_playbook, host, self_signed=True)
    assert result.returncode == 0, result.stdout
    pem = served_pem(host)
    assert x509(host, pem, "-issuer").split("=", 1)[1] == x509(host, pem, "-subject").split("=", 1)[1]
    assert not issued_by_pebble(host, pem)
    assert names_of(host, pem) == set(NAMES)
    for leaf in ("fullchain.pem", "privkey.pem"):
        path = host.file(f"{STABLE}/{leaf}")
        assert path.is_file, leaf
        assert not path.is_symlink, leaf
    assert host.file(f"{STABLE}/privkey.pem").mode == 0o600
    assert host.file("/etc/nginx/sites-available/site.conf").sha256sum == site_conf
    assert nginx_pid(host) == pid
    # The ACME lineage was left alone, not overwritten through the symlinks.
    assert issued_by_pebble(host, host.file("/etc/letsencrypt/live/site/cert.pem").content_string)


def test_back_to_acme_mode_reuses_the_valid_lineage(host, run_playbook):
    orders = pebble_orders(host)
    result = letsencrypt(run_playbook, host)
    assert result.returncode == 0, result.stdout
    pem = served_pem(host)
    assert issued_by_pebble(host, pem)
    assert names_of(host, pem) == set(NAMES)
    assert host.file(f"{STABLE}/fullchain.pem").is_symlink
    assert pebble_orders(host) == orders


def test_failed_challenge_stops_with_certbot_reason_and_keeps_serving(host, run_playbook):
    serial, site_conf = served_serial(host), host.file("/etc/nginx/sites-available/site.conf").sha256sum
    # The name does not resolve at all: it fails the same with or without nginx's first pass.
    result = letsencrypt(run_playbook, host, site_names=[*NAMES, "unreachable.test"])
    assert result.returncode != 0
    assert "certbot could not obtain certificate site" in result.stdout
    assert "Certbot failed to authenticate some domains" in result.stdout
    assert "Domain: unreachable.test" in result.stdout
    assert host.service("nginx").is_running
    assert served_serial(host) == serial
    assert names_of(host, served_pem(host)) == set(NAMES)
    assert host.file("/etc/nginx/sites-available/site.conf").sha256sum == site_conf


def test_adding_a_name_reissues_with_all_names(host, run_playbook):
    orders = pebble_orders(host)
    result = converge(run_playbook, host, site_names=[*NAMES, EXTRA])
    assert result.returncode == 0, result.stdout
    pem = served_pem(host, EXTRA)
    assert names_of(host, pem) == {*NAMES, EXTRA}
    assert issued_by_pebble(host, pem)
    assert pebble_orders(host) == orders + 1


@pytest.mark.parametrize(
    ("extra_vars", "message"),
    [
        (
            {"letsencrypt_certificates": [{"name": "site", "domains": ["*.site.test"]}]},
            "letsencrypt_certificates: the domains of site must be DNS names without wildcards",
        ),
        (
            {"letsencrypt_staging": True},
            "and cannot be combined with letsencrypt_staging",
        ),
        (
            {"letsencrypt_ca_bundle": "/etc/pebble/missing.pem"},
            "letsencrypt_ca_bundle /etc/pebble/missing.pem is not a file",
        ),
    ],
)
def test_bad_input_stops_before_any_change(host, run_playbook, extra_vars, message):
    serial = served_serial(host)
    result = letsencrypt(run_playbook, host, **extra_vars)
    assert result.returncode != 0
    assert message in result.stdout
    assert recap_changed(result.stdout) == 0
    assert served_serial(host) == serial
