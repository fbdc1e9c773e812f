"""Host keys on an SSH connect: the check known_hosts could not settle, and its error text."""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncssh

from gridtui.config import NodeConfig, SshSettings
from gridtui.transport import sshfiles
from gridtui.transport.base import TransportError
from gridtui.transport.sshfiles import display_path, known_hosts_path

if TYPE_CHECKING:
    from gridtui.transport.ssh import SshTransport


def known_hosts_name(host: str, port: int) -> str:
    """The host field OpenSSH writes: bare for port 22, `[host]:port` otherwise."""
    return host if port == 22 else f"[{host}]:{port}"


class HostKeyCheck(asyncssh.SSHClient):
    """Sees host keys that known_hosts did not vouch for: records new ones under accept-new.

    asyncssh calls validate_host_public_key only for a key absent from the trusted set, so
    here the key is either unknown for this host or different from the one on file.
    """

    def __init__(self, owner: SshTransport, known: asyncssh.SSHKnownHosts) -> None:
        self._owner = owner
        self._known = known
        self.problem: str | None = None  # "unknown" | "changed"
        self.where = ""
        self.lost: Exception | None = None
        self.record_failed: OSError | None = None  # accept-new could not write the key

    def validate_host_public_key(
        self, host: str, addr: str, port: int, key: asyncssh.SSHKey
    ) -> bool:
        self.where = known_hosts_name(host, port)
        matched = self._known.match(host, addr, None if port == 22 else port)
        if matched[0] or matched[1]:
            self.problem = "changed"
            return False
        self.problem = "unknown"
        if self._owner.settings.host_key_policy != "accept-new":
            return False
        try:
            sshfiles.record_host_key(self._owner.settings, self.where, key)
        except OSError as exc:
            self.record_failed = exc
            return False
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self._owner.connection_lost(self)


def host_key_error(
    node: NodeConfig, settings: SshSettings, target: str, client: HostKeyCheck, exc: Exception
) -> TransportError:
    """What to do about a refused host key, by what was wrong with it."""
    where, problem = client.where or target, client.problem
    kh = display_path(known_hosts_path(settings))
    if problem == "changed":
        text = (
            f"host key for {where} does not match {kh}: the host was reinstalled or "
            f"someone is intercepting; if expected, remove the old line (ssh-keygen -R "
            f"'{where}' -f {kh}) and connect again"
        )
    elif problem == "unknown":
        text = (
            f"host key for {where} is not in {kh}; add it with ssh-keyscan or set "
            f"ssh.host_key_policy: accept-new"
        )
    else:
        text = f"host key for {where} was refused: {exc}"
    return TransportError("host-key", f"{node.name}: {text}")
