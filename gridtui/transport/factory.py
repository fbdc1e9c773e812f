"""Builds each node's transport from the cluster file: subprocess for local nodes, SSH else."""

from __future__ import annotations

from gridtui.config import ClusterConfig, NodeConfig
from gridtui.transport.base import NodeTransport


def make_transport(node: NodeConfig, config: ClusterConfig) -> NodeTransport:
    """LocalTransport for `transport: local` nodes, a pooled SSH connection otherwise."""
    if node.transport == "local":
        from gridtui.transport.local import LocalTransport

        return LocalTransport(node, command_timeout=config.ssh.command_timeout)
    # Imported only for SSH nodes: asyncssh's import is the dearest on the console's start.
    from gridtui.transport.ssh import SshTransport

    return SshTransport(node, config.ssh)


def make_transports(config: ClusterConfig) -> dict[str, NodeTransport]:
    return {node.name: make_transport(node, config) for node in config.nodes}
