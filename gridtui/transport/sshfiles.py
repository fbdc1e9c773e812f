"""The local files an SSH connect depends on, checked before a packet is sent.

A missing, unreadable or malformed identity, ~/.ssh/config or known_hosts is this
machine's problem, not the node's: it is named with its file, under the reason "local",
and never retried as if the network were at fault."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import asyncssh

from gridtui.config import NodeConfig, SshSettings
from gridtui.transport.base import TransportError

# Far above any real key, known_hosts or ssh config; reading more is never the answer.
MAX_FILE = 4 * 1024 * 1024


def display_path(path: Path) -> str:
    home = str(Path.home())
    text = str(path)
    return "~" + text[len(home) :] if text.startswith(home + os.sep) else text


def known_hosts_path(settings: SshSettings) -> Path:
    return settings.known_hosts or Path("~/.ssh/known_hosts").expanduser()


def ssh_config_path() -> Path:
    return Path("~/.ssh/config").expanduser()


def local_error(node: NodeConfig, text: str) -> TransportError:
    return TransportError("local", f"{node.name}: {text}")


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    return "not a regular file"


def read_bytes(
    node: NodeConfig, path: Path, what: str, *, missing_ok: bool = False
) -> bytes | None:
    """A small regular file's bytes; None when it is missing and that is fine."""
    shown = display_path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if missing_ok:
            return None
        raise local_error(node, f"{what} {shown} does not exist") from None
    except OSError as exc:
        raise local_error(node, f"{what} {shown}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise local_error(node, f"{what} {shown} is {_kind(info.st_mode)}, not a file")
    if info.st_size > MAX_FILE:
        raise local_error(node, f"{what} {shown} is too large ({info.st_size} bytes)")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise local_error(node, f"{what} {shown}: {exc.strerror or exc}") from None


def read_text(node: NodeConfig, path: Path, what: str, *, missing_ok: bool = False) -> str | None:
    """A small regular UTF-8 file's text; None when it is missing and that is fine."""
    data = read_bytes(node, path, what, missing_ok=missing_ok)
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise local_error(
            node,
            f"{what} {display_path(path)} is not UTF-8 text (byte 0x{data[exc.start]:02x} at "
            f"offset {exc.start}, line {line})",
        ) from None


def check_ssh_config(node: NodeConfig, settings: SshSettings) -> None:
    """~/.ssh/config, when it is used, must be a readable UTF-8 file (asyncssh parses it
    during the connect, where a directory or bad bytes would look like a network error)."""
    if not settings.use_ssh_config:
        return
    read_text(node, ssh_config_path(), "ssh config", missing_ok=True)


def ssh_config_error(node: NodeConfig, exc: Exception) -> TransportError:
    """asyncssh's parse error names the file and line; say how to get past it."""
    first = (str(exc).strip().splitlines() or ["cannot parse"])[0]
    return local_error(
        node,
        f"bad ssh config: {first}; fix it (`ssh -G {node.host}` shows OpenSSH's view) "
        "or set ssh.use_ssh_config: false",
    )


def agent_available() -> bool:
    sock = os.environ.get("SSH_AUTH_SOCK")
    return bool(sock) and os.path.exists(str(sock))


def check_identity(node: NodeConfig) -> bool:
    """The node's identity file is a private key we can use; True when it is encrypted and
    an ssh-agent runs (then the agent's keys stand in for it: gridtui never asks for a
    passphrase). Any other problem raises naming the file."""
    path = node.identity
    if path is None:
        return False
    shown = display_path(path)
    data = read_bytes(node, path, "identity file")
    assert data is not None
    try:
        asyncssh.import_private_key(data)
        return False
    except asyncssh.KeyImportError as exc:
        if "passphrase" in str(exc).lower():
            if agent_available():
                return True
            raise local_error(
                node,
                f"identity file {shown} is encrypted and no ssh-agent runs to unlock it: "
                f"`eval $(ssh-agent) && ssh-add {shown}` before starting gridtui, or use a key "
                "without a passphrase",
            ) from None
        try:
            asyncssh.import_public_key(data)
        except (asyncssh.KeyImportError, ValueError):
            raise local_error(node, f"identity file {shown} is not a private key ({exc})") from None
        raise local_error(
            node,
            f"identity file {shown} is a public key: name the private key (usually the same "
            "path without .pub)",
        ) from None


def read_known_hosts(node: NodeConfig, settings: SshSettings) -> asyncssh.SSHKnownHosts:
    path = known_hosts_path(settings)
    text = read_text(node, path, "known_hosts", missing_ok=True) or ""
    try:
        # An object, never "": asyncssh reads an empty value as "use the default file".
        return asyncssh.import_known_hosts(text)
    except ValueError as exc:
        raise local_error(
            node, f"known_hosts {display_path(path)} has a malformed line: {exc}"
        ) from None


def record_host_key(settings: SshSettings, where: str, key: asyncssh.SSHKey) -> None:
    """Append a new host's key (accept-new); OSError when the file cannot take it."""
    path = known_hosts_path(settings)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    line = f"{where} {key.export_public_key('openssh').decode().strip()}\n"
    # O_APPEND keeps concurrent writers (other nodes' transports) from clobbering lines.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.write(line)


def record_error(
    node: NodeConfig, settings: SshSettings, where: str, exc: OSError
) -> TransportError:
    kh = display_path(known_hosts_path(settings))
    return local_error(
        node,
        f"cannot record the new host key of {where} in {kh} (ssh.host_key_policy: "
        f"accept-new): {exc.strerror or exc}; make the file writable, or add the key "
        f"yourself (ssh-keyscan)",
    )
