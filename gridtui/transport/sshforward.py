"""Local port forwards over a node's SSH connection: Ray's loopback-only dashboard, reached."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import asyncssh

from gridtui.transport.base import TransportError

if TYPE_CHECKING:
    from gridtui.transport.ssh import SshTransport


class SshForward:
    """A port on this machine's loopback, tunnelled through the node's SSH connection."""

    def __init__(self, listener: asyncssh.SSHListener, host: str = "127.0.0.1") -> None:
        self._listener = listener
        self.host = host
        self.port = int(listener.get_port())

    async def close(self) -> None:
        self._listener.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._listener.wait_closed(), 5)


async def open_forward(
    owner: SshTransport, conn: asyncssh.SSHClientConnection, host: str, port: int
) -> SshForward:
    """Listen on 127.0.0.1 (a port the system picks) and have the node open `host:port`
    from its side for each connection: the node's loopback is then reachable here, and
    nothing listens on the network. It lives as long as the connection; a server that
    refuses forwarding fails the first connection through it, not this call."""
    limit = owner.settings.connect_timeout
    try:
        listener = await asyncio.wait_for(
            conn.forward_local_port("127.0.0.1", 0, host, port), limit
        )
    except asyncio.TimeoutError:
        raise TransportError(
            "timeout", f"{owner.node.name}: forwarding to {host}:{port} timed out"
        ) from None
    except (asyncssh.Error, OSError) as exc:
        raise owner.error(exc, f"forwarding to {host}:{port}") from None
    return SshForward(listener)
