"""The cluster's Ray token on its nodes: checked against what runs, copied before `ray start`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from gridtui.config import ClusterConfig, NodeConfig
from gridtui.errors import UsageError
from gridtui.services.cluster import node_commands as commands
from gridtui.services.cluster.procs import RayProcess, running_auth
from gridtui.services.ray import auth as ray_auth
from gridtui.transport.base import NodeTransport, TransportError, write_private_file

if TYPE_CHECKING:
    from gridtui.services.cluster.lifecycle import ClusterOps, StartReport


def auth_clashes(config: ClusterConfig, procs: Mapping[str, Sequence[RayProcess]]) -> list[str]:
    """One line per node whose running Ray uses other auth settings than the file's: a
    worker started now could not join it (or it would stay open to anyone)."""
    wanted = config.ray.auth
    out = []
    for name, plist in procs.items():
        mode = running_auth(list(plist))
        if mode is not None and mode != wanted:
            out.append(
                f"{name}: Ray runs with RAY_AUTH_MODE {mode}, the cluster file wants "
                f"{wanted}: stop it (gridtui cluster stop) and start again"
            )
    return out


def local_token(config: ClusterConfig, running: Sequence[str]) -> str | None:
    """The token to give the nodes (made now when none exists), or None when the file
    turns auth off. A cluster already running without a token here is refused: a new
    token would lock this machine out of it and keep new workers from joining."""
    if not ray_auth.enabled(config):
        return None
    path = ray_auth.token_file(config)
    if running and not path.exists():
        raise ray_auth.RayAuthError(
            f"Ray runs on {', '.join(running)} but this machine has no token for it "
            f"({path}): stop it first (gridtui cluster stop), or copy that file here, mode "
            "600, from the machine that started it"
        )
    ray_auth.ensure_token(config)
    return ray_auth.read_token(config)


async def send_token(
    transport: NodeTransport, node: NodeConfig, config: ClusterConfig, token: str
) -> str:
    """Copy the token beside the node's Ray temp dir at mode 600 (on stdin, never in
    argv); '' when done, else why not."""
    try:
        await write_private_file(
            transport, commands.node_token_path(node, config), token, timeout=30
        )
    except TransportError as exc:
        return exc.message
    return ""


async def send_tokens(
    config: ClusterConfig,
    transports: Mapping[str, NodeTransport],
    token: str | None,
    say: Callable[[str, str, str, str], None],
) -> dict[str, str]:
    """{node: why the token did not reach it}. Every node gets it, running ones too (the
    head's own reading of Ray's table needs it there); none when auth is off."""
    if token is None:
        return {}

    async def one(node: NodeConfig) -> str:
        say(node.name, "start", "running", "copying the Ray token")
        return await send_token(transports[node.name], node, config, token)

    found = await asyncio.gather(*(one(n) for n in config.nodes))
    return {n.name: why for n, why in zip(config.nodes, found, strict=True) if why}


async def rotate(ops: ClusterOps, *, check: bool = True) -> StartReport:
    """A new token, and Ray restarted on every node with it: Ray reads its token only when
    it starts, so there is no rotating under a running cluster. Running tasks, actors and
    stored objects are lost, as with stop and start; the old token is refused after."""
    if not ray_auth.enabled(ops.config):
        raise UsageError("ray.auth is disabled in the cluster file: there is no token to rotate")
    if check:  # before anything stops: a node that cannot start again is found now
        await ops.check_versions()
    bad = [r for r in await ops.stop() if not r.ok]
    if bad:
        raise ray_auth.RayAuthError(
            "Ray did not stop everywhere; the old token stays",
            [f"{r.node}: {r.error or f'{r.left} processes left'}" for r in bad],
        )
    ray_auth.new_token(ops.config)
    return await ops.start(check=False)
