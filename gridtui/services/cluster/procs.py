"""A node's own Ray processes, found and stopped through its transport by the node script."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gridtui.config import ClusterConfig, NodeConfig
from gridtui.errors import UserError
from gridtui.services.cluster import node_commands as commands
from gridtui.transport.base import CommandResult, NodeTransport, TransportError


class NodeScriptError(UserError):
    """The node answered, but the node script failed or printed no JSON; names the node."""

    cause = "script"


class NoPython(NodeScriptError):
    """The node answered, but has no interpreter at the configured path (exit 126/127)."""

    cause = "no-python"


@dataclass(frozen=True)
class RayProcess:
    pid: int
    ppid: int
    rss: int
    name: str
    cmd: str
    auth: str | None = None  # RAY_AUTH_MODE of a raylet or GCS ("" unset; None unread)


def running_auth(procs: list[RayProcess]) -> str | None:
    """The auth mode a node's Ray runs with: "token", "disabled", "unset" (Ray decides),
    or None when no raylet or GCS could be read."""
    modes = {p.auth for p in procs if p.auth is not None}
    if not modes:
        return None
    if len(modes) == 1:
        return modes.pop() or "unset"
    return "mixed"


def parse_json(result: CommandResult, node: str) -> dict[str, Any]:
    """The last JSON line of the node script's output, or a one-line error naming the node."""
    for line in reversed(result.stdout.splitlines()):
        if line.startswith("{"):
            try:
                data = json.loads(line)
            except ValueError:
                break
            if isinstance(data, dict):
                return data
    detail = (result.stderr.strip().splitlines() or [f"exit {result.exit_status}"])[-1]
    if result.exit_status in (126, 127):  # the shell's "not executable" and "not found"
        raise NoPython(f"{node}: no usable Python at {result.argv[0]} ({detail[-200:]})")
    raise NodeScriptError(f"{node}: {result.argv[0]} failed: {detail[-300:]}")


async def run_script(
    transport: NodeTransport, argv: list[str], *, timeout: float | None = None
) -> dict[str, Any]:
    result = await transport.run(argv, input=commands.node_script(), timeout=timeout)
    return parse_json(result, transport.node.name)


async def list_processes(
    transport: NodeTransport, node: NodeConfig, config: ClusterConfig, timeout: float = 20.0
) -> list[RayProcess]:
    """Every live process of this node's Ray (named by its temp dir) and their children."""
    data = await run_script(transport, commands.procs_argv(node, config), timeout=timeout)
    return [RayProcess(**p) for p in data.get("procs", [])]


@dataclass(frozen=True)
class StopResult:
    node: str
    terminated: int
    killed: int
    left: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and self.left == 0


async def stop_node(
    transport: NodeTransport, node: NodeConfig, config: ClusterConfig, grace: float = 5.0
) -> StopResult:
    """SIGTERM the node's Ray processes, SIGKILL what is left after `grace` seconds."""
    try:
        data = await run_script(
            transport, commands.stop_argv(node, config, grace), timeout=grace + 20
        )
    except (TransportError, NodeScriptError) as exc:
        return StopResult(node.name, 0, 0, 0, error=str(exc))
    return StopResult(
        node.name,
        len(data.get("terminated", [])),
        len(data.get("killed", [])),
        len(data.get("left", [])),
    )


async def log_tail(
    transport: NodeTransport, node: NodeConfig, config: ClusterConfig, lines: int = 20
) -> dict[str, list[str]]:
    """{file name: last lines} of the node's raylet/GCS logs and gridtui's start log."""
    data = await run_script(transport, commands.logs_argv(node, config, lines), timeout=20)
    files = data.get("files", {})
    return {str(k): [str(x) for x in v] for k, v in files.items()}
