"""SshTransport against real asyncssh servers running real commands on 127.0.0.2..4."""

from __future__ import annotations

import asyncio
import json
import stat
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sshd import SshCluster, free_port, new_key, write_key

from gridtui.config import ClusterConfig, ConfigError, NodeConfig, SshSettings, parse_config
from gridtui.services.metrics.agent_launch import agent_argv, agent_source
from gridtui.transport.base import TransportError, write_private_file
from gridtui.transport.ssh import SshTransport

Cluster = tuple[SshCluster, ClusterConfig]


async def wait_for(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


def transport(cfg: ClusterConfig, i: int = 0, **ssh: object) -> SshTransport:
    settings = cfg.ssh.model_copy(update=ssh) if ssh else cfg.ssh
    return SshTransport(cfg.nodes[i], settings)


async def failure(t: SshTransport, argv: list[str] | None = None) -> TransportError:
    try:
        with pytest.raises(TransportError) as info:
            await t.run(argv or ["true"])
    finally:
        await t.close()
    return info.value


async def test_run_returns_output_and_exit_status(ssh_cluster: Cluster) -> None:
    _, cfg = ssh_cluster
    t = transport(cfg)
    try:
        res = await t.run(["sh", "-c", "cat; echo oops >&2; exit 3"], input="hello\n")
        assert (res.exit_status, res.stdout, res.stderr) == (3, "hello\n", "oops\n")
        assert (await t.run(["echo", "ok"])).ok
    finally:
        await t.close()


async def test_concurrent_calls_share_one_connection(ssh_cluster: Cluster) -> None:
    servers, cfg = ssh_cluster
    t = transport(cfg)
    try:
        results = await asyncio.gather(*(t.run(["echo", str(i)]) for i in range(25)))
        assert [r.stdout for r in results] == [f"{i}\n" for i in range(25)]
        stream = await t.open_stream(["sh", "-c", "echo a; sleep 0.2; echo b"])
        again = await t.run(["echo", "while streaming"])
        assert [line async for line in stream] == ["a", "b"]
        await stream.close()
        assert again.stdout == "while streaming\n"
        assert servers.servers[0].accepted == 1
        assert t.connects == 1
    finally:
        await t.close()


async def test_unknown_host_key_is_refused_with_a_clear_message(
    ssh_cluster: Cluster, tmp_path: Path
) -> None:
    servers, cfg = ssh_cluster
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    err = await failure(transport(cfg, known_hosts=empty))
    server = servers.servers[0]
    assert err.reason == "host-key"
    assert f"[{server.host}]:{server.port}" in err.message
    assert str(empty) in err.message and "accept-new" in err.message
    assert err.message.startswith("n1: ") and "\n" not in err.message
    assert empty.read_text() == ""  # strict never writes


async def test_changed_host_key_is_refused(ssh_cluster: Cluster) -> None:
    servers, cfg = ssh_cluster
    await servers.servers[0].restart(new_host_key=True)
    for policy in ("strict", "accept-new"):
        err = await failure(transport(cfg, host_key_policy=policy))
        assert err.reason == "host-key", err.message
        assert "does not match" in err.message and "ssh-keygen -R" in err.message


async def test_accept_new_records_the_key_and_reuses_it(
    ssh_cluster: Cluster, tmp_path: Path
) -> None:
    servers, cfg = ssh_cluster
    kh = tmp_path / "kh" / "known_hosts"  # the directory does not exist yet either
    t = transport(cfg, host_key_policy="accept-new", known_hosts=kh)
    try:
        assert (await t.run(["echo", "hi"])).stdout == "hi\n"
    finally:
        await t.close()
    server = servers.servers[0]
    lines = kh.read_text().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"[{server.host}]:{server.port} ssh-ed25519 ")
    # Strict mode now trusts the recorded key, and accept-new does not add it twice.
    for policy in ("strict", "accept-new"):
        t = transport(cfg, host_key_policy=policy, known_hosts=kh)
        try:
            assert (await t.run(["true"])).ok
        finally:
            await t.close()
    assert len(kh.read_text().splitlines()) == 1


async def test_wrong_key_is_an_auth_failure(ssh_cluster: Cluster, tmp_path: Path) -> None:
    _, cfg = ssh_cluster
    stranger = write_key(new_key(), tmp_path / "stranger")
    node = cfg.nodes[0].model_copy(update={"identity": stranger})
    err = await failure(SshTransport(node, cfg.ssh))
    assert err.reason == "auth" and err.message.startswith("n1: ")


async def test_refused_port(ssh_cluster: Cluster) -> None:
    _, cfg = ssh_cluster
    node = cfg.nodes[0].model_copy(update={"port": free_port("127.0.0.2")})
    err = await failure(SshTransport(node, cfg.ssh))
    assert err.reason == "refused" and "refused" in err.message


async def test_unresolvable_host_is_unreachable() -> None:
    node = NodeConfig(name="ghost", host="no-such-host.invalid", port=2222, user="x")
    settings = SshSettings(use_ssh_config=False, connect_timeout=5)
    err = await failure(SshTransport(node, settings))
    assert err.reason == "dns" and not err.transient
    assert err.message.startswith("ghost: cannot resolve no-such-host.invalid: ")


async def test_command_timeout_ends_the_remote_process(ssh_cluster: Cluster) -> None:
    servers, cfg = ssh_cluster
    t = transport(cfg)
    try:
        with pytest.raises(TransportError) as info:
            await t.run(["sleep", "30"], timeout=0.5)
        assert info.value.reason == "timeout"
        await wait_for(lambda: not servers.servers[0].children)
        assert (await t.run(["echo", "still usable"])).ok  # the connection survives
        assert t.connects == 1
    finally:
        await t.close()


async def test_reconnects_after_the_server_comes_back(ssh_cluster: Cluster) -> None:
    servers, cfg = ssh_cluster
    t = transport(cfg)
    try:
        assert (await t.run(["true"])).ok
        await servers.servers[0].restart()
        await wait_for(lambda: t._conn is None)  # noticed the dropped connection
        assert (await t.run(["echo", "back"])).stdout == "back\n"
        assert t.connects == 2
    finally:
        await t.close()


METACHARACTER_ARGS = [
    "; touch {m} #",
    "$(touch {m})",
    "`touch {m}`",
    "a\ntouch {m}",
    "| touch {m}",
    "&& touch {m}",
    "'; touch {m}; '",
    '"; touch {m}; "',
    "> {m}",
    "*",
]


async def test_shell_metacharacters_arrive_as_data(ssh_cluster: Cluster, tmp_path: Path) -> None:
    _, cfg = ssh_cluster
    marker = tmp_path / "injected"
    args = [a.format(m=marker) for a in METACHARACTER_ARGS]
    t = transport(cfg)
    try:
        res = await t.run(
            [sys.executable, "-c", "import sys,json;print(json.dumps(sys.argv[1:]))", *args]
        )
        assert json.loads(res.stdout) == args
        # A hostile interpreter path is one word that does not exist, not a second command.
        node = cfg.nodes[0].model_copy(update={"python": f"python3; touch {marker}"})
        bad = SshTransport(node, cfg.ssh)
        try:
            stream = await bad.open_stream(agent_argv(node, 0.25), input=agent_source())
            lines = [line async for line in stream]
            assert any("not found" in line for line in lines), lines
        finally:
            await bad.close()
    finally:
        await t.close()
    assert not marker.exists()


async def test_hostile_host_names_do_not_reach_a_shell(tmp_path: Path) -> None:
    marker = tmp_path / "injected"
    node = NodeConfig(name="evil", host=f"127.0.0.2;touch${{IFS}}{marker}", port=2222)
    err = await failure(SshTransport(node, SshSettings(use_ssh_config=False), connect_attempts=1))
    assert err.reason == "dns"
    assert not marker.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "n1; rm -rf /"),
        ("name", "$(touch x)"),
        ("name", "-oProxyCommand=x"),
        ("name", "a`b`"),
        ("host", "-oProxyCommand=touch /tmp/x"),
        ("host", "host; touch /tmp/x"),
        ("host", "a\nb"),
    ],
)
def test_config_rejects_metacharacters_in_names_and_hosts(field: str, value: str) -> None:
    node = {"name": "ok", "host": "127.0.0.2", field: value}
    text = "nodes:\n  - " + "\n    ".join(f"{k}: {json.dumps(v)}" for k, v in node.items())
    with pytest.raises(ConfigError) as info:
        parse_config(text, "bad.yaml")
    assert any(p.startswith("bad.yaml:") and f".{field}:" in p for p in info.value.problems)


async def test_agent_stream_yields_json_lines(ssh_cluster: Cluster) -> None:
    _, cfg = ssh_cluster
    t = transport(cfg, 1)
    try:
        stream = await t.open_stream(agent_argv(cfg.nodes[1], 0.2), input=agent_source())
        samples = []
        async for line in stream:
            samples.append(json.loads(line))
            if len(samples) == 3:
                break
        await stream.close()
        assert [s["seq"] for s in samples] == [0, 1, 2]
        assert all(0 <= s["cpu"] <= 100 for s in samples)
    finally:
        await t.close()


async def test_stream_ends_when_the_server_dies(ssh_cluster: Cluster) -> None:
    servers, cfg = ssh_cluster
    t = transport(cfg, 2)
    try:
        stream = await t.open_stream(agent_argv(cfg.nodes[2], 0.2), input=agent_source())
        got = 0

        async def read() -> None:
            nonlocal got
            async for _ in stream:
                got += 1
                if got == 2:
                    await servers.servers[2].stop()

        # Either a clean end or TransportError("closed"): the hub treats both as DOWN.
        try:
            await asyncio.wait_for(read(), 20)
        except TransportError as exc:
            assert exc.reason == "closed"
        await stream.close()
        assert got >= 2
        with pytest.raises(TransportError) as info:
            await t.run(["true"])
        assert info.value.reason == "refused"
    finally:
        await t.close()


async def test_ssh_config_alias_supplies_host_port_user_and_key(
    ssh_cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    servers, cfg = ssh_cluster
    server = servers.servers[0]
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "config").write_text(
        f"Host lab-head\n  HostName {server.host}\n  Port {server.port}\n"
        f"  User gridtui\n  IdentityFile {servers.identity}\n"
    )
    monkeypatch.setenv("HOME", str(home))
    node = NodeConfig(name="head", host="lab-head")
    t = SshTransport(node, cfg.ssh.model_copy(update={"use_ssh_config": True}))
    try:
        assert (await t.run(["echo", "via alias"])).stdout == "via alias\n"
    finally:
        await t.close()


async def test_a_secret_travels_on_stdin_and_lands_at_mode_600(
    ssh_cluster: Cluster, tmp_path: Path
) -> None:
    servers, cfg = ssh_cluster
    t = transport(cfg, 1)
    secret = "f" * 64
    path = tmp_path / "ray" / "n2.ray-token"
    try:
        await write_private_file(t, str(path), secret)
    finally:
        await t.close()
    assert path.read_text() == secret and stat.S_IMODE(path.stat().st_mode) == 0o600
    # What ran on the node names the path; the secret was never on a command line.
    commands = servers.servers[1].commands
    assert any(str(path) in c for c in commands)
    assert not any(secret in c for c in commands)


async def test_a_forward_reaches_the_nodes_loopback_through_ssh(ssh_cluster: Cluster) -> None:
    """What the job client will use for a head's dashboard, which listens on its loopback."""
    _, cfg = ssh_cluster

    async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"dashboard on the node's loopback\n")
        await writer.drain()
        writer.close()

    service = await asyncio.start_server(greet, "127.0.0.1", 0)
    port = service.sockets[0].getsockname()[1]
    t = transport(cfg, 1)
    try:
        forward = await t.forward(port)
        assert forward.host == "127.0.0.1" and forward.port != port
        reader, writer = await asyncio.open_connection(forward.host, forward.port)
        assert (
            await asyncio.wait_for(reader.readline(), 10) == b"dashboard on the node's loopback\n"
        )
        writer.close()
        await forward.close()
        with pytest.raises(OSError):
            await asyncio.open_connection(forward.host, forward.port)
    finally:
        await t.close()
        service.close()
        await service.wait_closed()
