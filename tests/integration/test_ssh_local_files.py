"""This machine's own SSH files at fault (identity, ~/.ssh/config, known_hosts): named with
the file and its problem under reason "local", never sent to the network or retried, and
worded the same in `cluster status` as in the TransportError the console shows (class 4);
auth and host-key failures get their own advice in `cluster start` (class 5)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sshd import SshCluster, new_key, write_key

from gridtui.cli import main
from gridtui.config import ClusterConfig, parse_config
from gridtui.transport.base import TransportError
from gridtui.transport.ssh import SshTransport

Cluster = tuple[SshCluster, ClusterConfig]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home of our own: its ~/.ssh/config is what these tests break."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return home


def encrypted_key(path: Path) -> Path:
    # PKCS#8: OpenSSH's own encrypted format needs bcrypt to write, not to be recognised.
    path.write_bytes(new_key().export_private_key("pkcs8-pem", passphrase="secret"))
    path.chmod(0o600)
    return path


def public_key(path: Path) -> Path:
    key = new_key()
    key.write_public_key(str(path))
    return path


def text_file(text: bytes) -> Callable[[Path], Path]:
    def make(path: Path) -> Path:
        path.write_bytes(text)
        return path

    return make


def directory(path: Path) -> Path:
    path.mkdir()
    return path


# (what the identity file is, the message after "n1: identity file PATH").
IDENTITIES = [
    (lambda p: p, " does not exist"),
    (directory, " is a directory, not a file"),
    (encrypted_key, " is encrypted and no ssh-agent runs to unlock it: `eval $(ssh-agent) && ssh-add"),
    (text_file(b"hello\n"), " is not a private key (Invalid private key)"),
    (text_file(b"\xff\xfe\x00junk"), " is not a private key ("),
    (public_key, " is a public key: name the private key (usually the same path without .pub)"),
]  # fmt: skip

# (~/.ssh/config's content or kind, the message after "n1: ").
SSH_CONFIGS = [
    (directory, "ssh config ~/.ssh/config is a directory, not a file"),
    (text_file(b"Host x\n  User \xff\n"), "ssh config ~/.ssh/config is not UTF-8 text (byte 0xff at offset 14, line 2)"),
    (text_file(b"Host *\n  Port abc\n"), "bad ssh config: {home}/.ssh/config line 2: Invalid Port integer value: abc; fix it"),
    (text_file(b'Host "unterminated\n'), "bad ssh config: {home}/.ssh/config line 1: No closing quotation; fix it"),
]  # fmt: skip


async def local_failure(
    servers: SshCluster, cfg: ClusterConfig, node_update: dict[str, object], **ssh: object
) -> TransportError:
    node = cfg.nodes[0].model_copy(update=node_update)
    t = SshTransport(node, cfg.ssh.model_copy(update=ssh))
    try:
        with pytest.raises(TransportError) as info:
            await t.run(["true"])
    finally:
        await t.close()
    return info.value


async def cli(*argv: str) -> int:
    """The real entry point, on its own thread and loop (the servers run on this one)."""
    return await asyncio.to_thread(main, list(argv))


async def cli_reach_error(
    config_text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> str:
    """What `cluster status --json` says of n1: the words the user reads in the CLI."""
    path = tmp_path / "c.yaml"
    path.write_text(config_text)
    assert await cli("cluster", "status", "--json", "--timeout", "30", "-c", str(path)) == 1
    nodes = {n["name"]: n for n in json.loads(capsys.readouterr().out)["nodes"]}
    assert nodes["n1"]["reach_reason"] == "local"
    return str(nodes["n1"]["reach_error"])


@pytest.mark.parametrize(("make", "problem"), IDENTITIES)
async def test_identity_file_problems_are_local(
    ssh_cluster: Cluster,
    home: Path,
    tmp_path: Path,
    make: Callable[[Path], Path],
    problem: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    servers, cfg = ssh_cluster
    path = make(tmp_path / "id_test")
    err = await local_failure(servers, cfg, {"identity": path})
    assert err.reason == "local" and not err.transient
    assert err.message.startswith(f"n1: identity file {path}{problem}"), err.message
    assert "\n" not in err.message
    assert servers.servers[0].accepted == 0  # nothing was sent: not even a TCP connect
    text = servers.config_yaml(python=sys.executable).replace(str(servers.identity), str(path), 1)
    assert await cli_reach_error(text, tmp_path, capsys) == err.message


async def test_encrypted_identity_with_an_agent_lets_the_agent_try(
    ssh_cluster: Cluster, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With an agent, its keys stand in for an encrypted identity (as with OpenSSH): the
    agent holding that key connects; an agent without it is an auth failure naming the file."""
    servers, cfg = ssh_cluster
    path = tmp_path / "id_enc"  # the authorized key itself, encrypted on disk
    path.write_bytes(servers.client_key.export_private_key("pkcs8-pem", passphrase="secret"))
    sock = tmp_path / "agent.sock"
    agent = await asyncio.create_subprocess_exec(
        "ssh-agent", "-D", "-a", str(sock), stdout=asyncio.subprocess.DEVNULL
    )
    try:
        for _ in range(100):
            if sock.exists():
                break
            await asyncio.sleep(0.05)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        node = cfg.nodes[0].model_copy(update={"identity": path})
        t = SshTransport(node, cfg.ssh)
        try:
            err = await local_failure(servers, cfg, {"identity": path})
            assert err.reason == "auth", err.message
            assert err.message.endswith(f"{path} is encrypted: is it loaded in ssh-agent?")
            add = await asyncio.create_subprocess_exec(
                "ssh-add", "-q", str(servers.identity), env={**os.environ}
            )
            assert await add.wait() == 0
            assert (await t.run(["echo", "via agent"])).stdout == "via agent\n"
        finally:
            await t.close()
    finally:
        agent.terminate()  # ours, by its pid
        await asyncio.wait_for(agent.wait(), 10)


@pytest.mark.parametrize(("make", "problem"), SSH_CONFIGS)
async def test_bad_ssh_config_is_local(
    ssh_cluster: Cluster,
    home: Path,
    tmp_path: Path,
    make: Callable[[Path], Path],
    problem: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    servers, cfg = ssh_cluster
    make(home / ".ssh" / "config")
    err = await local_failure(servers, cfg, {}, use_ssh_config=True)
    assert err.reason == "local", err.message
    assert err.message.startswith("n1: " + problem.format(home=home)), err.message
    assert servers.servers[0].accepted == 0
    text = servers.config_yaml(python=sys.executable).replace(
        "use_ssh_config: false", "use_ssh_config: true"
    )
    assert await cli_reach_error(text, tmp_path, capsys) == err.message


def dangling(path: Path) -> Path:
    path.symlink_to(path.parent / "no-such-dir" / "known_hosts")
    return path


@pytest.mark.parametrize(
    ("make", "policy", "problem"),
    [
        (text_file(b"\xff\xfe"), "strict", "known_hosts {kh} is not UTF-8 text (byte 0xff at offset 0, line 1)"),
        (directory, "strict", "known_hosts {kh} is a directory, not a file"),
        (text_file(b"garbage\n"), "strict", "known_hosts {kh} has a malformed line: Invalid known hosts entry: garbage"),
        (dangling, "accept-new", "cannot record the new host key of [127.0.0.2]:{port} in {kh} (ssh.host_key_policy: accept-new): No such file or directory; make the file writable, or add the key yourself (ssh-keyscan)"),
    ],
)  # fmt: skip
async def test_known_hosts_problems_are_local(
    ssh_cluster: Cluster,
    home: Path,
    tmp_path: Path,
    make: Callable[[Path], Path],
    policy: str,
    problem: str,
) -> None:
    servers, cfg = ssh_cluster
    kh = make(tmp_path / "kh")
    err = await local_failure(servers, cfg, {}, known_hosts=kh, host_key_policy=policy)
    assert err.reason == "local", err.message
    port = servers.servers[0].port
    assert err.message.startswith("n1: " + problem.format(kh=kh, port=port)), err.message
    # Reading fails before any packet; recording fails on the one connect, never retried.
    assert servers.servers[0].accepted == (1 if policy == "accept-new" else 0)


async def test_start_advice_for_auth_and_host_key(
    ssh_servers: SshCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Neither failure is "run gridtui cluster install": each says what would fix it."""
    servers = ssh_servers
    stranger = write_key(new_key(), tmp_path / "stranger")
    text = servers.config_yaml(python=sys.executable)
    lines = text.splitlines()
    # n2 offers a key the server does not know; n3's host key is not in known_hosts.
    n2 = lines.index("  - name: n2")
    lines[n2 + 4] = f"    identity: {stranger}"
    kh_line = next(i for i, ln in enumerate(lines) if ln.startswith("  known_hosts:"))
    partial = tmp_path / "kh_partial"
    partial.write_text(
        "".join(
            ln + "\n"
            for ln in servers.known_hosts.read_text().splitlines()
            if "127.0.0.4" not in ln
        )
    )
    lines[kh_line] = f"  known_hosts: {partial}"
    path = tmp_path / "c.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert parse_config(path.read_text()).nodes[1].identity == stranger
    assert await cli("cluster", "start", "-q", "-c", str(path)) == 1
    err = capsys.readouterr().err
    assert "cluster install" not in err
    problems = {ln.strip().split(":")[0]: ln.strip() for ln in err.splitlines()[1:]}
    assert set(problems) == {"n2", "n3"}, err
    assert "refused our keys" in problems["n2"] and "ssh-copy-id" in problems["n2"]
    assert f"host key for [127.0.0.4]:{servers.servers[2].port} is not in" in problems["n3"]
    assert "ssh-keyscan" in problems["n3"] and "accept-new" in problems["n3"]
