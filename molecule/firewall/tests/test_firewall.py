"""The firewall role, checked from outside as a user would: connections from the peer container, from
the podman host, and Ansible's own SSH over the scenario's network.

converge.yml makes each container a server for the other: port 8000 from the peer only (its IPv4 and
its IPv6 link-local address), 8080 from anywhere; firewall-debian13 takes SSH from the peer only,
firewall-debian12 from anywhere. prepare.yml runs an HTTP server on 8000 and 8080 in both. The podman
host sits on the same network (its gateway) and is allowed nothing but 8080, ping and, on
firewall-debian12, SSH. A dropped connection times out; a refused one (RST) got through the firewall to a
port nothing listens on.
"""

import functools
import json
import os
import shlex
import socket
import struct
import subprocess
import time

import pytest
import testinfra

SERVERS = ("firewall-debian12", "firewall-debian13")
PEER = {SERVERS[0]: SERVERS[1], SERVERS[1]: SERVERS[0]}
NETWORK = "djangoops-firewall"
TABLE = "inet djangoops"
REVERT_TIMER = "djangoops-firewall-revert.timer"
TIMEOUT = 1.0

# What a client sees: "open", "refused" (the port got the packet, nothing listens) or "dropped".
CONNECT = f"""
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout={TIMEOUT}).close()
    print("open")
except ConnectionRefusedError:
    print("refused")
except TimeoutError:
    print("dropped")
"""


@functools.cache
def container(name: str):
    return testinfra.get_host(f"podman://{name}")


@functools.cache
def addresses(name: str) -> dict[str, str]:
    """The container's IPv4 address and IPv6 link-local address on the scenario's network."""
    (link,) = json.loads(container(name).check_output("ip -j addr show dev eth0"))
    found = {a["family"]: a["local"] for a in link["addr_info"] if a["family"] == "inet" or a["scope"] == "link"}
    return {"ipv4": found["inet"], "ipv6": found["inet6"]}


@functools.cache
def network() -> dict[str, str]:
    """The podman host's side of the network: its address there and its bridge interface."""
    env = dict(os.environ)
    (info,) = json.loads(subprocess.check_output(["podman", "network", "inspect", NETWORK], env=env, text=True))
    return {"gateway": info["subnets"][0]["gateway"], "interface": info["network_interface"]}


def target(name: str, family: str, interface: str) -> str:
    address = addresses(name)[family]
    return f"{address}%{interface}" if family == "ipv6" else address


def from_peer(server: str, family: str, port: int) -> str:
    client = container(PEER[server])
    script = shlex.quote(CONNECT)
    return client.check_output(f"python3 -c {script} {target(server, family, 'eth0')} {port}")


def from_podman_host(server: str, family: str, port: int) -> str:
    address = target(server, family, network()["interface"])
    try:
        socket.create_connection((address, port), timeout=TIMEOUT).close()
    except ConnectionRefusedError:
        return "refused"
    except TimeoutError:
        return "dropped"
    return "open"


def ping_from_podman_host(server: str, family: str) -> bool:
    """One ICMP / ICMPv6 echo request from the podman host (a raw socket, as root); True on its reply."""
    v6 = family == "ipv6"
    request_type, reply_type = (128, 129) if v6 else (8, 0)
    ident = os.getpid() & 0xFFFF
    header = struct.pack("!BBHHH", request_type, 0, 0, ident, 1)
    payload = b"djangoops-firewall"
    if not v6:  # the kernel computes ICMPv6 checksums itself
        data = header + payload
        total = sum(struct.unpack(f"!{len(data) // 2}H", data))
        total = (total >> 16) + (total & 0xFFFF)
        header = struct.pack("!BBHHH", request_type, 0, ~(total + (total >> 16)) & 0xFFFF, ident, 1)
    sock = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_RAW, 58 if v6 else 1)
    address = target(server, family, network()["interface"])
    with sock:
        sock.settimeout(TIMEOUT)
        sock.sendto(header + payload, socket.getaddrinfo(address, None, sock.family, socket.SOCK_RAW)[0][4])
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                packet = sock.recv(1024)
            except TimeoutError:
                return False
            icmp = packet if v6 else packet[(packet[0] & 0x0F) * 4 :]  # IPv4 raw sockets get the IP header
            if icmp[0] == reply_type and struct.unpack("!H", icmp[4:6])[0] == ident:
                return True
    return False


def live_table(server: str) -> str:
    return container(server).check_output(f"nft list table {TABLE}")


def state(server: str) -> tuple[str, str]:
    """What a refused run must leave alone: the file and the live table."""
    return container(server).check_output("sha256sum /etc/nftables.conf"), live_table(server)


def over_the_network(server: str) -> dict:
    """Extra vars that make Ansible reach the container by its address (sshd on port 22), not podman exec."""
    return {
        "ansible_host": addresses(server)["ipv4"],
        "ansible_connection": "ssh",
        "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR",
    }


# --- the converged ruleset ---------------------------------------------------------------------


@pytest.mark.parametrize("server", SERVERS)
def test_nftables_loads_the_file_at_boot(server):
    host = container(server)
    assert host.package("nftables").is_installed
    service = host.service("nftables")
    assert service.is_enabled
    assert service.is_running
    assert host.run("nft -c -f /etc/nftables.conf").rc == 0
    assert "flush ruleset" not in host.file("/etc/nftables.conf").content_string


@pytest.mark.parametrize("server", SERVERS)
def test_input_drops_by_default_and_ssh_comes_first(server):
    listing = json.loads(container(server).check_output(f"nft -j list table {TABLE}"))["nftables"]
    chains = {item["chain"]["name"]: item["chain"] for item in listing if "chain" in item}
    assert chains["input"]["policy"] == "drop"
    assert chains["input"]["hook"] == "input"
    assert chains["forward"]["policy"] == "drop"
    assert "output" not in chains  # not filtered
    rules = [item["rule"] for item in listing if "rule" in item and item["rule"]["chain"] == "input"]
    first = json.dumps(rules[0]["expr"])
    assert rules[0].get("comment") == "ssh"
    assert '"dport"' in first
    assert '"right": 22' in first
    assert '"accept"' in first


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
@pytest.mark.parametrize("server", SERVERS)
def test_the_peer_reaches_the_port_allowed_from_it(server, family):
    assert from_peer(server, family, 8000) == "open"
    assert from_peer(server, family, 8080) == "open"


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
@pytest.mark.parametrize("server", SERVERS)
def test_another_source_is_dropped_but_reaches_the_open_port(server, family):
    assert from_podman_host(server, family, 8000) == "dropped"
    assert from_podman_host(server, family, 8080) == "open"
    assert from_podman_host(server, family, 9000) == "dropped"  # nothing allowed, nothing listening


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
@pytest.mark.parametrize("server", SERVERS)
def test_ssh_over_the_network_from_its_sources_only(server, family):
    assert from_peer(server, family, 22) == "open"
    expected = "open" if server == "firewall-debian12" else "dropped"  # debian13: SSH from the peer only
    assert from_podman_host(server, family, 22) == expected


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
@pytest.mark.parametrize("server", SERVERS)
def test_ping_answers(server, family):
    assert ping_from_podman_host(server, family)


@pytest.mark.parametrize("server", SERVERS)
def test_udp_rule_takes_the_peer_only(server):
    table = live_table(server)
    assert 'udp dport 5353 ip saddr @allow_dns_ipv4 accept comment "dns"' in table
    assert addresses(PEER[server])["ipv4"] in table.split("set allow_dns_ipv4")[1].split("}")[0]
    assert "allow_dns_ipv6" not in table  # IPv4 sources only: closed over IPv6


@pytest.mark.parametrize("server", SERVERS)
def test_restart_and_reload_keep_the_ruleset_and_other_tables(server):
    """Another tool's table (podman's netavark, with its nftables driver) in the same network namespace."""
    host = container(server)
    host.check_output(
        "nft add table inet netavark && "
        "nft add chain inet netavark forward '{ type filter hook forward priority filter; policy accept; }'"
    )
    try:
        before = live_table(server)
        host.check_output("systemctl restart nftables.service")
        host.check_output("systemctl reload nftables.service")
        assert live_table(server) == before
        assert "table inet netavark" in host.check_output("nft list tables")
        assert from_podman_host(server, "ipv4", 8000) == "dropped"
        host.check_output("systemctl stop nftables.service")
        assert host.check_output("nft list tables").split("\n") == ["table inet netavark"]
        host.check_output("systemctl start nftables.service")
        assert live_table(server) == before
    finally:
        host.run("nft delete table inet netavark")
        host.run("systemctl start nftables.service")


# --- refusals before any change ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra_vars", "message"),
    [
        ({"firewall_ssh_sources": []}, "firewall_ssh_sources must list where SSH may come from"),
        ({"firewall_ssh_sources": ["10.89.0.5/24"]}, "firewall_ssh_sources items must be IPv4 or IPv6 addresses"),
        (
            {"firewall_allow": [{"name": "postgresql", "port": 5432, "sources": ["app1.example.org"]}]},
            "firewall_allow[0] (postgresql): sources must be a list of IPv4 or IPv6 addresses",
        ),
        ({"firewall_allow": [{"name": "web", "port": 70000}]}, "firewall_allow[0] (web): port must be a port"),
        ({"firewall_allow": [{"name": "git", "port": 22}]}, "firewall_allow[0] (git): the SSH port 22/tcp"),
    ],
)
def test_bad_input_stops_the_run_before_any_change(run_playbook, extra_vars, message):
    server = "firewall-debian12"
    before = state(server)
    result = run_playbook("role.yml", extra_vars, limit=server)
    assert result.returncode != 0
    assert message in result.stdout
    assert "changed=0" in result.stdout
    assert state(server) == before


def test_a_ruleset_that_would_cut_ansible_off_is_refused(run_playbook):
    """Over a real SSH connection from the podman host: it is not among the new SSH sources."""
    server = "firewall-debian12"
    before = state(server)
    sources = [addresses(PEER[server])["ipv4"]]
    result = run_playbook("role.yml", {**over_the_network(server), "firewall_ssh_sources": sources}, limit=server)
    assert result.returncode != 0
    assert f"Ansible is connected over SSH from {network()['gateway']} to port 22" in result.stdout
    assert "firewall_ssh_sources" in result.stdout
    assert "changed=0" in result.stdout
    assert state(server) == before


def test_check_mode_shows_the_change_and_makes_none(run_playbook):
    server = "firewall-debian13"
    before = state(server)
    extra_vars = {"firewall_allow": [{"name": "probe", "port": 9000}]}
    result = run_playbook("role.yml", extra_vars, limit=server, args=["--check", "--diff"])
    assert result.returncode == 0, result.stdout
    assert '+\t\ttcp dport 9000 accept comment "probe"' in result.stdout
    assert state(server) == before
    assert container(server).run(f"systemctl is-active {REVERT_TIMER}").stdout.strip() == "inactive"


# --- applying over SSH: the revert timer; switched off and back on ------------------------------


def test_a_ruleset_that_cuts_ansible_off_is_taken_back(run_playbook):
    """Over a real SSH connection from the podman host, with the lockout check turned off: only the revert
    timer stands between Ansible and a lost host."""
    server = "firewall-debian12"
    host = container(server)
    before = state(server)
    assert from_podman_host(server, "ipv4", 22) == "open"
    extra_vars = {
        **over_the_network(server),
        "firewall_ssh_sources": [addresses(PEER[server])["ipv4"]],
        "firewall_ssh_lockout_check": False,
        "firewall_revert_timeout": 10,
    }
    started = time.monotonic()
    result = run_playbook("role.yml", extra_vars, limit=server)
    assert result.returncode != 0, result.stdout[-3000:]
    assert "cut Ansible off" in result.stdout, result.stdout[-3000:]
    assert "The host took it back" in result.stdout, result.stdout[-3000:]
    assert time.monotonic() - started >= 10
    assert live_table(server) == before[1]
    assert host.run("nft -c -f /etc/nftables.conf").rc == 0
    assert before[1].strip() in host.file("/etc/nftables.conf").content_string  # a reboot loads the same
    assert host.run(f"systemctl is-active {REVERT_TIMER}").stdout.strip() == "inactive"
    assert from_podman_host(server, "ipv4", 22) == "open"


def test_disabled_removes_the_table_only(run_playbook):
    server = "firewall-debian12"
    host = container(server)
    result = run_playbook("role.yml", {"firewall_enabled": False, "firewall_revert_timeout": 0}, limit=server)
    assert result.returncode == 0, result.stdout
    assert "djangoops" not in host.check_output("nft list tables")
    assert host.service("nftables").is_running
    assert from_podman_host(server, "ipv4", 8000) == "open"


def test_a_ruleset_applied_over_ssh_is_kept_once_ansible_reconnects(run_playbook):
    """converge.yml over a real SSH connection puts the firewall back on: the handler loads the ruleset,
    reconnects through it and disarms the timer."""
    server = "firewall-debian12"
    peer = addresses(PEER[server])
    extra_vars = {**over_the_network(server), "scenario_peer_ipv4": peer["ipv4"], "scenario_peer_ipv6": peer["ipv6"]}
    result = run_playbook("converge.yml", extra_vars, limit=server)
    assert result.returncode == 0, result.stdout
    assert "RUNNING HANDLER [firewall : Disarm the revert timer" in result.stdout
    assert container(server).run(f"systemctl is-active {REVERT_TIMER}").stdout.strip() == "inactive"
    assert from_podman_host(server, "ipv4", 22) == "open"
    assert from_podman_host(server, "ipv4", 8000) == "dropped"
    assert from_podman_host(server, "ipv4", 8080) == "open"
    assert from_peer(server, "ipv4", 8000) == "open"
