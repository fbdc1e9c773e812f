"""The NodeTransport contract: run an argv on a node, or hold a line stream open on it."""

from __future__ import annotations

import os
import shlex
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from gridtui.config import NodeConfig
from gridtui.errors import GridError

# Why a node cannot be reached; the console shows these words next to UNREACHABLE.
# "dns": the host name does not resolve; "local": a file on this machine is the problem
# (identity, ~/.ssh/config, known_hosts), so the node itself was never asked.
REASONS = (
    "auth", "host-key", "timeout", "refused", "unreachable", "dns", "closed", "local", "error",
)  # fmt: skip
# Reasons worth another connect attempt: the others will not fix themselves in a second.
TRANSIENT = ("timeout", "refused", "unreachable", "closed")


class TransportError(GridError):
    """A failure to reach or talk to a node, with a short machine-readable reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason if reason in REASONS else "error"
        self.message = message

    @property
    def transient(self) -> bool:
        """Whether trying again soon can help (a local file or a bad key will not change)."""
        return self.reason in TRANSIENT


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    exit_status: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_status == 0


def command_line(argv: Sequence[str]) -> str:
    """Quote every word, so names and paths with shell metacharacters stay data."""
    if not argv:
        raise ValueError("empty command")
    return shlex.join(str(a) for a in argv)


def remote_path(node: NodeConfig, path: str) -> str:
    """`~/x` for a node: expanded here for local nodes, made home-relative for SSH ones
    (SSH commands start in the home directory, and a quoted word is never tilde-expanded)."""
    if not path.startswith("~"):
        return path
    if node.transport == "local":
        return os.path.expanduser(path)
    return path[2:] if path.startswith("~/") else path


# Writes stdin to $1 at mode $2: umask first, so no moment exists where the file is
# readable by others; a fresh temp file (an old one of another mode is removed), then an
# atomic rename, so a reader sees the old file or the new one, never half of either.
_PRIVATE_WRITE = (
    'umask 077 && d=$(dirname -- "$1") && mkdir -p -- "$d" && t="$1.new.$$" && '
    'rm -f -- "$t" && cat > "$t" && chmod "$2" -- "$t" && mv -f -- "$t" "$1"'
)


async def write_private_file(
    transport: NodeTransport, path: str, text: str, *, mode: int = 0o600, timeout: float = 30.0
) -> None:
    """Write `text` to `path` on the node at `mode`, through the transport: the content
    travels on the command's stdin, never in its argv (which `ps` shows), and nothing
    logs it. Missing directories are made private (700). Raises TransportError."""
    result = await transport.run(
        ["sh", "-c", _PRIVATE_WRITE, "sh", path, f"{mode:o}"], input=text, timeout=timeout
    )
    if not result.ok:
        detail = (result.stderr.strip().splitlines() or [f"exit {result.exit_status}"])[-1]
        raise TransportError(
            "error", f"{transport.node.name}: cannot write {path}: {detail[-200:]}"
        )


class Forward(Protocol):
    """A local address that reaches a port on the node (through SSH, or directly)."""

    host: str
    port: int

    async def close(self) -> None: ...


@dataclass
class DirectForward:
    """A node on this machine needs no tunnel: its address is already local."""

    host: str
    port: int

    async def close(self) -> None:
        return None


class LineStream(Protocol):
    """A long-lived channel yielding stdout lines until the remote side ends or breaks."""

    def __aiter__(self) -> AsyncIterator[str]: ...

    async def close(self) -> None: ...


@runtime_checkable
class NodeTransport(Protocol):
    node: NodeConfig

    async def run(
        self,
        argv: Sequence[str],
        *,
        input: str | None = None,
        timeout: float | None = None,
    ) -> CommandResult:
        """Run argv on the node; raise TransportError if the node cannot be reached in time."""
        ...

    async def open_stream(self, argv: Sequence[str], *, input: str | None = None) -> LineStream:
        """Start argv, write `input` then EOF to its stdin, and stream its stdout lines."""
        ...

    async def reset(self) -> None:
        """Drop any kept connection at once: the node went silent, so start afresh."""
        ...

    async def forward(self, port: int, host: str = "127.0.0.1") -> Forward:
        """A local address that reaches `host:port` as the node sees it (its loopback by
        default): how gridtui reaches a head's dashboard that listens on loopback only."""
        ...

    async def close(self) -> None: ...
