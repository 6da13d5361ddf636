"""The harness runs systemd services that answer on loopback, on every base image."""

import pytest



def test_systemd_is_pid_1_and_running(host):
    assert host.run("cat /proc/1/comm").stdout.strip() == "systemd"
    state = host.run("systemctl is-system-running --wait").stdout.strip()
    assert state == "running"


def test_service_enabled_and_active(host):
    service = host.service("harness-http")
    assert service.is_enabled
    assert service.is_running


def test_service_answers_on_loopback_only(host):
    assert host.socket("tcp://127.0.0.1:8080").is_listening
    assert not host.socket("tcp://0.0.0.0:8080").is_listening


@pytest.mark.parametrize("path", ["/index.html"])
def test_service_serves_page(host, path):
    release = host.system_info.codename
    body = host.check_output(
        "python3 -c 'import urllib.request,sys; "
        f"sys.stdout.write(urllib.request.urlopen(\"http://127.0.0.1:8080{path}\").read().decode())'"
    )
    assert body == f"harness ok on {release}"


def test_bad_input_is_refused_naming_the_variable(host, run_playbook):
    result = run_playbook("bad_input.yml", {"harness_port": -1}, limit=host.backend.name)
    assert result.returncode != 0
    assert "harness_port must be a positive port number" in result.stdout
