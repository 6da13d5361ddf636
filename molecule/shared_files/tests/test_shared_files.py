"""The client mounts the server's directories over sshfs: what one side writes, the other reads at once,
as the owner; other users only read; the key gives SFTP and nothing else; systemd mounts it from fstab."""

import functools

import pytest
import testinfra

SERVER, CLIENT = "shared_files-server", "shared_files-client"
MEDIA = "/srv/notes/shared/media"
STATIC = "/srv/notes/shared/static"
KEY = "/etc/ssh/shared_files/notes_ed25519"


# No test takes the `host` fixture, so testinfra runs each once (not once per host).
@functools.cache
def container(name: str):
    return testinfra.get_host(f"podman://{name}")


@pytest.fixture
def server():
    return container(SERVER)


@pytest.fixture
def client():
    return container(CLIENT)


def test_client_mounts_both_directories_from_the_server(client):
    for path in (MEDIA, STATIC):
        mount = client.mount_point(path)
        assert mount.exists, path
        assert mount.filesystem == "fuse.sshfs"
        assert mount.device == f"notes@{SERVER}:{path}"
        assert "rw" in mount.options


def test_a_file_the_client_writes_is_on_the_server_owned_by_the_owner(client, server):
    client.run_test("runuser -u notes -- sh -c 'mkdir -p %s/up && echo from-client > %s/up/a.txt'", MEDIA, MEDIA)
    remote = server.file(f"{MEDIA}/up/a.txt")
    assert remote.content_string == "from-client\n"
    assert (remote.user, remote.group, remote.mode) == ("notes", "notes", 0o644)
    assert server.file(f"{MEDIA}/up").mode == 0o755


def test_a_file_the_server_writes_is_read_by_the_client_at_once(client, server):
    # The client lists the directory first (its caches would now hold the listing), then the server adds a file.
    client.run_test("ls %s", MEDIA)
    server.run_test("runuser -u notes -- sh -c 'echo from-server > %s/b.txt'", MEDIA)
    assert client.run_test("cat %s/b.txt", MEDIA).stdout == "from-server\n"
    assert "b.txt" in client.run_test("ls %s", MEDIA).stdout.split()


def test_other_users_read_but_do_not_write(client):
    assert client.run_test("runuser -u nobody -- cat %s/up/a.txt", MEDIA).stdout == "from-client\n"
    denied = client.run("runuser -u nobody -- touch %s/nobody.txt", MEDIA)
    assert denied.rc != 0
    assert "Permission denied" in denied.stderr


def test_the_clients_key_gives_sftp_and_nothing_else(client, server):
    assert server.file("/etc/ssh/shared_files/notes.authorized_keys").content_string.count("restrict ssh-ed25519") == 1
    shell = client.run(
        "ssh -i %s -o BatchMode=yes -o UserKnownHostsFile=/etc/ssh/shared_files/notes.known_hosts "
        "-o HostKeyAlias=shared-files-notes notes@%s id",
        KEY,
        SERVER,
    )
    assert "uid=" not in shell.stdout
    assert "sftp connections only" in shell.stdout + shell.stderr
    forward = client.run(
        "timeout 10 ssh -i %s -o BatchMode=yes -o UserKnownHostsFile=/etc/ssh/shared_files/notes.known_hosts "
        "-o HostKeyAlias=shared-files-notes -W 127.0.0.1:22 notes@%s </dev/null",
        KEY,
        SERVER,
    )
    assert forward.rc not in (0, 124)
    assert "prohibited" in forward.stderr


def test_the_mount_refuses_another_host_key(client):
    # The fstab line as the role wrote it, with the pinned key swapped for another one (the client's own):
    # no mount, no prompt. Then the right key again.
    known_hosts = "/etc/ssh/shared_files/notes.known_hosts"
    pinned = client.file(known_hosts).content_string
    client.run_test(
        "printf 'shared-files-notes %%s\\n' \"$(cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub)\" > %s", known_hosts
    )
    try:
        client.run_test("umount %s", STATIC)
        refused = client.run("timeout 30 mount %s", STATIC)
        assert refused.rc != 0
        assert not client.mount_point(STATIC).exists
    finally:
        client.run_test("printf '%%s' %s > %s", pinned, known_hosts)
        client.run_test("mountpoint -q %s || mount %s", STATIC, STATIC)
    assert client.mount_point(STATIC).exists


def test_systemd_mounts_it_again_from_fstab(client):
    unit = client.run_test("systemd-escape --path --suffix=mount %s", MEDIA).stdout.strip()
    client.run_test("umount %s", MEDIA)
    assert not client.mount_point(MEDIA).exists
    client.run_test("systemctl daemon-reload && systemctl start %s", unit)
    assert client.mount_point(MEDIA).exists
    assert client.run_test("cat %s/up/a.txt", MEDIA).stdout == "from-client\n"
    assert client.service(unit).is_running
