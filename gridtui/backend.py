"""The one factory that builds the services for the console, the CLI and the tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gridtui.config import ClusterConfig, NodeConfig
from gridtui.metrics import MetricsHub
from gridtui.prefs import Prefs
from gridtui.transport.base import NodeTransport


def make_transport(node: NodeConfig, config: ClusterConfig) -> NodeTransport:
    """LocalTransport for `transport: local` nodes, a pooled SSH connection otherwise."""
    if node.transport == "local":
        from gridtui.transport.local import LocalTransport

        return LocalTransport(node, command_timeout=config.ssh.command_timeout)
    from gridtui.transport.ssh import SshTransport

    return SshTransport(node, config.ssh)


def make_transports(config: ClusterConfig) -> dict[str, NodeTransport]:
    return {node.name: make_transport(node, config) for node in config.nodes}


@dataclass
class Backend:
    """Services the fronts share. Building it is cheap; `start` opens the node streams."""

    config: ClusterConfig
    config_path: Path | None = None
    prefs: Prefs = field(default_factory=Prefs)
    hub: MetricsHub | None = None
    streaming: bool = True

    def __post_init__(self) -> None:
        if self.hub is None:
            self.hub = MetricsHub(self.config)

    @property
    def metrics(self) -> MetricsHub:
        assert self.hub is not None
        return self.hub

    async def start(self) -> None:
        """Connect to every node (SSH imports happen here, after the first frame)."""
        if self.streaming:
            self.metrics.transports.update(make_transports(self.config))
        await self.metrics.start()

    async def stop(self) -> None:
        await self.metrics.stop()


def make_backend(
    config: ClusterConfig, config_path: Path | None = None, *, prefs: Prefs | None = None
) -> Backend:
    return Backend(config=config, config_path=config_path, prefs=prefs or Prefs())
