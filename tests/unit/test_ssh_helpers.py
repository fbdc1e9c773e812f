"""The SSH transport's local half, no server needed: files, host keys, errors, options, backoff."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import stat
from pathlib import Path

import asyncssh
import pytest

from gridtui.config import NodeConfig, SshSettings, parse_config
from gridtui.transport import sshfiles
from gridtui.transport.backoff import Backoff
from gridtui.transport.base import TransportError
from gridtui.transport.factory import make_transports
from gridtui.transport.local import LocalTransport
from gridtui.transport.ssh import SshTransport, connect_semaphore, preferred_ciphers
from gridtui.transport.sshhostkey import HostKeyCheck, host_key_error, known_hosts_name


def node(**fields: object) -> NodeConfig:
    return NodeConfig.model_validate({"name": "n1", "host": "box.example", **fields})


def public_line(key: asyncssh.SSHKey) -> str:
    return key.export_public_key("openssh").decode().strip()


@pytest.fixture
def key() -> asyncssh.SSHKey:
    return asyncssh.generate_private_key("ssh-ed25519")


# -- this machine's SSH files -----------------------------------------------------------


def test_paths_under_home_are_shown_with_a_tilde(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/ann")
    assert sshfiles.display_path(Path("/home/ann/.ssh/id")) == "~/.ssh/id"
    assert sshfiles.display_path(Path("/home/annex/id")) == "/home/annex/id"
    assert sshfiles.display_path(Path("/etc/ssh/key")) == "/etc/ssh/key"


def test_a_missing_file_is_none_only_when_that_is_fine(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    assert sshfiles.read_text(node(), missing, "known_hosts", missing_ok=True) is None
    with pytest.raises(TransportError) as err:
        sshfiles.read_text(node(), missing, "identity file")
    assert err.value.reason == "local" and not err.value.transient
    assert err.value.message == f"n1: identity file {missing} does not exist"


def test_a_directory_or_fifo_is_named_for_what_it_is(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for path, kind in ((tmp_path, "a directory"), (fifo, "a named pipe")):
        with pytest.raises(TransportError) as err:
            sshfiles.read_bytes(node(), path, "ssh config")
        assert err.value.message == f"n1: ssh config {path} is {kind}, not a file"


def test_bad_utf8_names_its_byte_offset_and_line(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_bytes(b"Host a\nHost b\xff\n")
    with pytest.raises(TransportError) as err:
        sshfiles.read_text(node(), path, "ssh config")
    assert err.value.message.endswith("is not UTF-8 text (byte 0xff at offset 13, line 2)")


def test_the_ssh_config_is_read_only_when_it_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".ssh" / "config").mkdir(parents=True)  # a directory: refused when used
    with pytest.raises(TransportError, match=r"ssh config ~/.ssh/config is a directory"):
        sshfiles.check_ssh_config(node(), SshSettings())
    sshfiles.check_ssh_config(node(), SshSettings(use_ssh_config=False))


def test_an_identity_must_be_a_private_key(tmp_path: Path, key: asyncssh.SSHKey) -> None:
    private, public, junk = tmp_path / "id", tmp_path / "id.pub", tmp_path / "junk"
    private.write_bytes(key.export_private_key("openssh"))
    public.write_text(public_line(key) + "\n")
    junk.write_text("hello\n")
    assert sshfiles.check_identity(node()) is False  # none named: nothing to check
    assert sshfiles.check_identity(node(identity=str(private))) is False
    with pytest.raises(TransportError, match=r"is a public key: name the private key"):
        sshfiles.check_identity(node(identity=str(public)))
    with pytest.raises(TransportError, match=r"identity file .*junk is not a private key"):
        sshfiles.check_identity(node(identity=str(junk)))


def test_an_encrypted_identity_needs_an_agent(
    tmp_path: Path, key: asyncssh.SSHKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "id"
    path.write_bytes(key.export_private_key("pkcs8-pem", passphrase="secret"))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    with pytest.raises(TransportError, match=r"is encrypted and no ssh-agent runs"):
        sshfiles.check_identity(node(identity=str(path)))
    sock = tmp_path / "agent.sock"
    sock.touch()
    monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
    assert sshfiles.check_identity(node(identity=str(path))) is True


def test_known_hosts_missing_is_empty_and_malformed_is_named(tmp_path: Path) -> None:
    settings = SshSettings(known_hosts=tmp_path / "kh")
    assert sshfiles.read_known_hosts(node(), settings).match("box.example", "", None)[0] == []
    (tmp_path / "kh").write_text("box.example\n")  # a host with no key
    with pytest.raises(TransportError, match=r"known_hosts .*kh has a malformed line"):
        sshfiles.read_known_hosts(node(), settings)


def test_a_recorded_host_key_is_appended_private(tmp_path: Path, key: asyncssh.SSHKey) -> None:
    settings = SshSettings(known_hosts=tmp_path / "sub" / "kh")
    sshfiles.record_host_key(settings, "[box.example]:2222", key)
    sshfiles.record_host_key(settings, "other", key)
    path = tmp_path / "sub" / "kh"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = path.read_text().splitlines()
    assert lines == [f"[box.example]:2222 {public_line(key)}", f"other {public_line(key)}"]
    known = sshfiles.read_known_hosts(node(), settings)
    assert known.match("box.example", "", 2222)[0]


def test_ssh_config_errors_say_how_to_get_past_them() -> None:
    error = sshfiles.ssh_config_error(node(), ValueError("config line 3: bad option\nmore"))
    assert error.reason == "local"
    assert error.message == (
        "n1: bad ssh config: config line 3: bad option; fix it (`ssh -G box.example` shows "
        "OpenSSH's view) or set ssh.use_ssh_config: false"
    )


# -- host keys ----------------------------------------------------------------------------


def test_known_hosts_names_carry_the_port_unless_it_is_22() -> None:
    assert known_hosts_name("box", 22) == "box"
    assert known_hosts_name("box", 2222) == "[box]:2222"


def checker(tmp_path: Path, policy: str, lines: str = "") -> tuple[HostKeyCheck, Path]:
    path = tmp_path / "kh"
    path.write_text(lines)
    settings = SshSettings(known_hosts=path, host_key_policy=policy)  # type: ignore[arg-type]
    transport = SshTransport(node(), settings)
    return HostKeyCheck(transport, sshfiles.read_known_hosts(node(), settings)), path


def test_an_unknown_key_is_refused_under_strict(tmp_path: Path, key: asyncssh.SSHKey) -> None:
    check, path = checker(tmp_path, "strict")
    assert check.validate_host_public_key("box.example", "10.0.0.1", 2222, key) is False
    assert (check.problem, check.where) == ("unknown", "[box.example]:2222")
    assert path.read_text() == ""


def test_an_unknown_key_is_recorded_under_accept_new(tmp_path: Path, key: asyncssh.SSHKey) -> None:
    check, path = checker(tmp_path, "accept-new")
    assert check.validate_host_public_key("box.example", "10.0.0.1", 22, key) is True
    assert path.read_text() == f"box.example {public_line(key)}\n"


def test_a_different_key_on_file_is_changed_even_under_accept_new(
    tmp_path: Path, key: asyncssh.SSHKey
) -> None:
    old = asyncssh.generate_private_key("ssh-ed25519")
    check, path = checker(tmp_path, "accept-new", f"box.example {public_line(old)}\n")
    before = path.read_text()
    assert check.validate_host_public_key("box.example", "10.0.0.1", 22, key) is False
    assert check.problem == "changed"
    assert path.read_text() == before  # never overwritten by a key that changed


def test_an_unwritable_known_hosts_is_kept_as_the_reason(
    tmp_path: Path, key: asyncssh.SSHKey
) -> None:
    check, path = checker(tmp_path, "accept-new")
    path.unlink()
    path.mkdir()  # appending to a directory fails
    assert check.validate_host_public_key("box.example", "", 22, key) is False
    assert isinstance(check.record_failed, OSError)
    error = sshfiles.record_error(node(), check._owner.settings, check.where, check.record_failed)
    assert error.reason == "local" and "cannot record the new host key of box.example" in str(error)


def test_host_key_errors_say_what_to_do(tmp_path: Path, key: asyncssh.SSHKey) -> None:
    check, path = checker(tmp_path, "strict")
    settings = check._owner.settings
    check.problem, check.where = "changed", "[box.example]:2222"
    changed = host_key_error(node(), settings, "box.example:2222", check, Exception("x"))
    assert changed.reason == "host-key"
    assert f"ssh-keygen -R '[box.example]:2222' -f {path}" in changed.message
    check.problem = "unknown"
    unknown = host_key_error(node(), settings, "box.example:2222", check, Exception("x"))
    assert unknown.message.endswith("set ssh.host_key_policy: accept-new")
    check.problem, check.where = None, ""
    other = host_key_error(node(), settings, "box.example:2222", check, Exception("no kex"))
    assert other.message == "n1: host key for box.example:2222 was refused: no kex"


# -- the transport's errors and options ---------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "reason", "text"),
    [
        (asyncio.TimeoutError(), "timeout", "n1: connect to box.example:2222 timed out"),
        (ConnectionRefusedError(), "refused", "n1: box.example:2222 refused the connection"),
        (
            socket.gaierror(-2, "Name or service not known"),
            "dns",
            "n1: cannot resolve box.example: Name or service not known",
        ),
        (UnicodeError(), "dns", "n1: box.example:2222 is not a valid host name"),
        (
            OSError(113, "No route to host"),
            "unreachable",
            "n1: cannot reach box.example:2222: No route to host",
        ),
        (
            asyncssh.ConnectionLost("reset"),
            "closed",
            "n1: connection to box.example:2222 lost: reset",
        ),
        (
            asyncssh.PermissionDenied("no keys"),
            "auth",
            "n1: box.example:2222 refused our keys (no keys)",
        ),
        (
            RuntimeError("boom\nsecond line"),
            "error",
            "n1: connect on box.example:2222 failed: boom",
        ),
    ],
)
def test_every_failure_is_one_line_with_its_reason(
    exc: BaseException, reason: str, text: str
) -> None:
    error = SshTransport(node(port=2222)).error(exc, "connect")
    assert (error.reason, error.message) == (reason, text)
    assert error.transient == (reason in ("timeout", "refused", "unreachable", "closed"))


def test_options_leave_unset_fields_to_the_ssh_config() -> None:
    bare = SshTransport(node())._options()
    assert "port" not in bare and "username" not in bare and "client_keys" not in bare
    assert "config" not in bare  # ~/.ssh/config decides
    full = SshTransport(
        node(port=2200, user="ray", identity="/k/id"), SshSettings(use_ssh_config=False)
    )._options(identity_encrypted=True)
    assert (full["port"], full["username"], full["client_keys"]) == (2200, "ray", ["/k/id"])
    assert full["config"] is None and full["ignore_encrypted"] is True
    assert full["encryption_algs"] == preferred_ciphers()


def test_ciphers_put_aes_gcm_first_and_drop_none() -> None:
    from asyncssh.encryption import get_default_encryption_algs

    ours = preferred_ciphers()
    assert sorted(ours) == sorted(a.decode() for a in get_default_encryption_algs())
    gcm = [a for a in ours if a.endswith("-gcm@openssh.com")]
    assert gcm and ours[: len(gcm)] == gcm


def test_one_connect_semaphore_per_event_loop() -> None:
    async def two() -> tuple[asyncio.Semaphore, asyncio.Semaphore]:
        return connect_semaphore(3), connect_semaphore(99)

    first, again = asyncio.run(two())
    assert first is again  # the first caller on a loop sizes it
    other, _ = asyncio.run(two())
    assert other is not first


def test_the_factory_builds_local_and_ssh_transports() -> None:
    config = parse_config(
        "nodes:\n"
        "  - {name: here, host: 127.0.0.1, transport: local}\n"
        "  - {name: there, host: box.example, port: 2022}\n"
        "ssh: {connect_timeout: 3}\n"
    )
    made = make_transports(config)
    assert list(made) == ["here", "there"]
    assert isinstance(made["here"], LocalTransport)
    there = made["there"]
    assert isinstance(there, SshTransport)
    assert there.settings.connect_timeout == 3 and there.node.port == 2022


# -- backoff ------------------------------------------------------------------------------


def test_backoff_grows_to_its_cap_with_jitter_and_resets() -> None:
    backoff = Backoff(base=1.0, cap=8.0, rng=random.Random(7))
    ceilings = [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    for ceiling in ceilings:
        delay = backoff.next_delay()
        assert 0.5 <= delay <= ceiling
    assert backoff.attempt == len(ceilings)
    backoff.reset()
    assert backoff.attempt == 0 and backoff.next_delay() <= 1.0


def test_backoff_spreads_a_crowd() -> None:
    """Full jitter: a hundred nodes retrying at once do not pick one delay."""
    delays = {Backoff(base=1.0, cap=30.0, rng=random.Random(i)).next_delay() for i in range(100)}
    assert len(delays) == 100


def test_backoff_attempts_stop_growing_before_overflow() -> None:
    backoff = Backoff(base=0.5, cap=30.0, rng=random.Random(1))
    for _ in range(200):
        assert 0.25 <= backoff.next_delay() <= 30.0
    assert backoff.attempt == 30
