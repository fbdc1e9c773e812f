"""SshTransport against Debian's OpenSSH server, and ProxyJump through it to another node."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from openssh import SSHD, OpenSshServer
from sshd import SshCluster

from gridtui.config import NodeConfig, SshSettings
from gridtui.services.metrics.agent_launch import agent_argv, agent_source
from gridtui.transport.ssh import SshTransport

pytestmark = pytest.mark.skipif(SSHD is None, reason="openssh-server is not installed")


@pytest.fixture
def openssh(ssh_servers: SshCluster, tmp_path: Path) -> Iterator[OpenSshServer]:
    server = OpenSshServer(tmp_path / "openssh", "127.0.0.5", ssh_servers.client_key)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def settings(known_hosts: Path, **extra: object) -> SshSettings:
    return SshSettings(known_hosts=known_hosts, connect_timeout=5, **extra)  # type: ignore[arg-type]


async def test_commands_and_agent_stream_over_openssh(
    openssh: OpenSshServer, ssh_servers: SshCluster, tmp_path: Path
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(openssh.known_hosts_line())
    node = NodeConfig(
        name="real",
        host=openssh.host,
        port=openssh.port,
        user="root",
        identity=ssh_servers.identity,
        python=sys.executable,
    )
    t = SshTransport(node, settings(known, use_ssh_config=False))
    marker = tmp_path / "pwned"
    try:
        evil = f"; touch {marker} $(touch {marker}) `touch {marker}`"
        result = await t.run(["echo", evil])
        assert result.stdout == evil + "\n" and not marker.exists()
        assert (await t.run(["sh", "-c", "exit 7"])).exit_status == 7
        stream = await t.open_stream(agent_argv(node, 0.2), input=agent_source())
        lines = []
        async for line in stream:
            lines.append(line)
            if len(lines) == 2:
                break
        await stream.close()
        assert all(line.startswith('{"v":1') for line in lines)
        assert t.connects == 1
    finally:
        await t.close()


async def test_proxyjump_from_ssh_config(
    openssh: OpenSshServer,
    ssh_servers: SshCluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = ssh_servers.servers[0]
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "config").write_text(
        f"Host bastion\n  HostName {openssh.host}\n  Port {openssh.port}\n  User root\n"
        f"  IdentityFile {ssh_servers.identity}\n"
        f"  UserKnownHostsFile {tmp_path / 'known_hosts'}\n"
        f"Host inner\n  HostName {target.host}\n  Port {target.port}\n  User gridtui\n"
        f"  IdentityFile {ssh_servers.identity}\n  ProxyJump bastion\n"
    )
    known = tmp_path / "known_hosts"
    known.write_text(openssh.known_hosts_line() + ssh_servers.known_hosts.read_text())
    monkeypatch.setenv("HOME", str(home))
    before = target.accepted
    t = SshTransport(NodeConfig(name="inner", host="inner"), settings(known))
    try:
        assert (await t.run(["echo", "through the bastion"])).stdout == "through the bastion\n"
    finally:
        await t.close()
    assert target.accepted == before + 1
    # The hop really went through OpenSSH: it logged our key and the forwarded channel.
    log = (openssh.workdir / "sshd.log").read_text()
    assert "Accepted publickey for root" in log
