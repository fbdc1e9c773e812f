"""MetricsHub streaming the real agent from three SSH servers: UP, DOWN on a kill, back UP."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Callable

import pytest
from sshd import SshCluster

from gridtui.config import ClusterConfig
from gridtui.model.nodes import Alert, NodeState, NodeStatus
from gridtui.services.metrics.hub import MetricsHub
from gridtui.transport.ssh import SshTransport

Cluster = tuple[SshCluster, ClusterConfig]


async def wait_until(predicate: Callable[[], bool], timeout: float = 30.0) -> float:
    """Poll until true; return the seconds it took. Generous: a loaded CI box is slow."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)
    return time.monotonic() - start


@pytest.fixture
async def hub(ssh_cluster: Cluster) -> AsyncIterator[MetricsHub]:
    _, cfg = ssh_cluster
    transports = {n.name: SshTransport(n, cfg.ssh) for n in cfg.nodes}
    hub = MetricsHub(cfg, transports)
    await hub.start()
    try:
        yield hub
    finally:
        await hub.stop()


def status(hub: MetricsHub, name: str) -> NodeStatus:
    return next(n for n in hub.snapshot().nodes if n.name == name)


def samples(hub: MetricsHub, name: str) -> int:
    return len(hub.history(name, "cpu"))


def all_up(hub: MetricsHub) -> bool:
    return all(n.state is NodeState.UP and n.sample is not None for n in hub.snapshot().nodes)


async def test_three_nodes_come_up_with_figures(hub: MetricsHub) -> None:
    await wait_until(lambda: all_up(hub) and all(samples(hub, n) >= 3 for n in hub.node_names()))
    for node in hub.snapshot().nodes:
        assert node.sample is not None
        assert 0 <= node.sample.cpu_percent <= 100 and node.sample.mem_total > 0
    # Each node's samples came over one connection, reused for the whole run.
    assert all(t.connects == 1 for t in hub.transports.values())  # type: ignore[attr-defined]


async def test_killed_server_goes_down_and_comes_back(
    hub: MetricsHub, ssh_cluster: Cluster
) -> None:
    servers, cfg = ssh_cluster
    alerts: list[Alert] = []
    hub.alerts.subscribe(alerts.append)
    await wait_until(lambda: all_up(hub))

    await servers.servers[1].stop()  # listener closed, connections dropped, agent killed
    took = await wait_until(lambda: status(hub, "n2").state is NodeState.DOWN)
    print(f"DOWN after {took:.2f}s = {took / cfg.sample_interval:.1f} intervals")
    # The others keep streaming while n2 is away.
    before = {n: samples(hub, n) for n in ("n1", "n3")}
    await wait_until(lambda: all(samples(hub, n) >= before[n] + 3 for n in before))
    assert status(hub, "n2").state in (NodeState.DOWN, NodeState.UNREACHABLE)
    assert status(hub, "n2").reason

    await servers.servers[1].start()
    await wait_until(lambda: status(hub, "n2").state is NodeState.UP)
    kinds = [(a.node, a.kind) for a in alerts]
    assert ("n2", "down") in kinds and ("n2", "back") in kinds
    assert kinds.index(("n2", "down")) < kinds.index(("n2", "back"))
    assert not any(node != "n2" for node, _ in kinds)


async def test_silent_agent_is_declared_down_and_restarted(
    hub: MetricsHub, ssh_cluster: Cluster
) -> None:
    """A frozen agent keeps its channel open and says nothing: the watchdog must notice."""
    servers, _ = ssh_cluster
    await wait_until(lambda: all_up(hub))
    server = servers.servers[2]
    (agent,) = server.children
    os.killpg(agent.pid, signal.SIGSTOP)
    try:
        await wait_until(lambda: status(hub, "n3").state is NodeState.DOWN)
        assert "no sample" in status(hub, "n3").reason
        # The hub drops the silent stream and opens a new one; a fresh agent reports again.
        await wait_until(lambda: status(hub, "n3").state is NodeState.UP)
        assert all_up(hub) or status(hub, "n3").state is NodeState.UP
    finally:
        if agent.returncode is None:
            os.killpg(agent.pid, signal.SIGCONT)
