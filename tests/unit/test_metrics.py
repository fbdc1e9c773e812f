"""MetricsHub on recorded readings and a fake clock: history, states, alerts, coalescing."""

from __future__ import annotations

import asyncio
import random
import sys

from gridtui.config import parse_config
from gridtui.model.nodes import Alert, ClusterSnapshot, NodeState
from gridtui.services.metrics.hub import MetricsHub, RetryDelay
from gridtui.transport.base import TransportError
from gridtui.transport.local import LocalTransport

CONFIG = parse_config(
    """
name: t
sample_interval: 1.0
history_seconds: 10
alerts: {cpu_percent: 80, sustain_seconds: 3}
nodes:
  - {name: a, host: h1, role: head}
  - {name: b, host: h2}
"""
)


def reading(cpu: float, t: float, *, mem_used: int = 50, rx: int = 0) -> dict:
    return {
        "t": t,
        "cpu": cpu,
        "cores": [cpu],
        "load": [1, 2, 3],
        "mem": {"total": 100, "used": mem_used},
        "net": {"rx": rx, "tx": 0},
    }


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_hub() -> tuple[MetricsHub, Clock, list[Alert]]:
    clock = Clock()
    hub = MetricsHub(CONFIG, clock=clock, wall_clock=clock)
    alerts: list[Alert] = []
    hub.alerts.subscribe(alerts.append)
    return hub, clock, alerts


def test_history_is_bounded_and_ordered() -> None:
    hub, clock, _ = make_hub()
    for i in range(25):
        clock.now += 1
        hub.record("a", reading(i, clock.now, rx=i * 100))
    assert hub.history("a", "cpu") == tuple(float(i) for i in range(15, 25))
    assert hub.history("a", "net_rx_rate")[-1] == 100.0
    status = hub.snapshot().node("a")
    assert status is not None and status.state is NodeState.UP
    assert status.cpu_percent == 24.0 and status.mem_percent == 50.0
    assert status.role == "head"
    assert hub.snapshot().node("b").state is NodeState.CONNECTING  # type: ignore[union-attr]


def test_stale_after_two_intervals_down_after_three_then_back() -> None:
    hub, clock, alerts = make_hub()
    hub.record("a", reading(10, clock.now))
    clock.now += 2.5
    hub.check_staleness()
    assert hub.snapshot().node("a").state is NodeState.STALE  # type: ignore[union-attr]
    clock.now += 1.0
    hub.check_staleness()
    node = hub.snapshot().node("a")
    assert node is not None and node.state is NodeState.DOWN
    assert "no sample for 3.5s" in node.reason
    assert node.cpu_percent is None  # a down node shows no stale figures
    assert [a.kind for a in alerts] == ["down"]
    hub.record("a", reading(10, clock.now))
    assert hub.snapshot().node("a").state is NodeState.UP  # type: ignore[union-attr]
    assert [a.kind for a in alerts] == ["down", "back"]


def test_sustained_pressure_alerts_once_with_hysteresis() -> None:
    hub, clock, alerts = make_hub()
    for cpu in (85, 90, 95, 99, 97):  # 4 s above 80
        hub.record("b", reading(cpu, clock.now))
        clock.now += 1
    assert [(a.kind, a.node) for a in alerts] == [("pressure", "b")]
    assert "cpu at 99% for 3s (threshold 80%)" in alerts[0].message
    hub.record("b", reading(78, clock.now))  # below the limit but inside the margin
    for cpu in (90, 90, 90, 90):
        clock.now += 1
        hub.record("b", reading(cpu, clock.now))
    assert len(alerts) == 1
    hub.record("b", reading(10, clock.now))  # well below: re-armed
    for cpu in (90, 90, 90, 90, 90):
        clock.now += 1
        hub.record("b", reading(cpu, clock.now))
    assert len(alerts) == 2


def test_unreachable_node_reports_reason() -> None:
    config = parse_config(
        "sample_interval: 0.2\nnodes:\n  - {name: x, host: h, transport: local, "
        "python: /nonexistent/python3}\n"
    )

    async def scenario() -> ClusterSnapshot:
        hub = MetricsHub(config, {"x": LocalTransport(config.nodes[0])})
        await hub.start()
        try:
            for _ in range(100):
                await asyncio.sleep(0.05)
                if hub.snapshot().nodes[0].state is NodeState.UNREACHABLE:
                    break
            return hub.snapshot()
        finally:
            await hub.stop()

    node = asyncio.run(scenario()).nodes[0]
    assert node.state is NodeState.UNREACHABLE
    assert "cannot run /nonexistent/python3" in node.reason


def test_streams_real_agent_and_coalesces_publishes() -> None:
    config = parse_config(
        f"sample_interval: 0.1\nnodes:\n  - {{name: me, host: 127.0.0.1, transport: local, "
        f"python: {sys.executable}}}\n"
    )

    async def scenario() -> list[ClusterSnapshot]:
        hub = MetricsHub(config, {"me": LocalTransport(config.nodes[0])}, publish_interval=0.5)
        seen: list[ClusterSnapshot] = []
        hub.subscribe(seen.append)
        await hub.start()
        try:
            for _ in range(200):
                await asyncio.sleep(0.05)
                if len(hub.history("me", "cpu")) >= 8 and seen:
                    break
        finally:
            await hub.stop()
        return seen

    seen = asyncio.run(scenario())
    assert seen[-1].nodes[0].state is NodeState.UP
    assert seen[-1].nodes[0].sample is not None and seen[-1].nodes[0].sample.mem_total > 0
    # Eight or more samples arrived, but publishes are coalesced into 0.5 s windows.
    assert len(seen) < 8


class RefusingTransport:
    """Every stream attempt is refused at once, as a node with no SSH server would."""

    def __init__(self) -> None:
        self.attempts = 0

    async def open_stream(self, argv: object, *, input: str | None = None) -> object:
        self.attempts += 1
        raise TransportError("refused", "x: 10.0.0.9:22 refused the connection")

    async def close(self) -> None:
        return None

    async def reset(self) -> None:
        return None


def test_retries_that_change_nothing_publish_nothing() -> None:
    config = parse_config("sample_interval: 0.1\nnodes:\n  - {name: x, host: 10.0.0.9}\n")

    async def scenario() -> tuple[int, list[ClusterSnapshot], list[Alert]]:
        transport = RefusingTransport()
        hub = MetricsHub(config, {"x": transport})  # type: ignore[dict-item]
        seen: list[ClusterSnapshot] = []
        alerts: list[Alert] = []
        hub.subscribe(seen.append)
        hub.alerts.subscribe(alerts.append)
        await hub.start()
        try:
            for _ in range(200):
                await asyncio.sleep(0.02)
                if transport.attempts >= 4:
                    break
            await asyncio.sleep(0.1)  # a publish would be due by now
        finally:
            await hub.stop()
        return transport.attempts, seen, alerts

    attempts, seen, alerts = asyncio.run(scenario())
    assert attempts >= 4  # quick retries at first (0.1, 0.2, 0.4 s ...)
    assert len(seen) == 1 and seen[0].nodes[0].state is NodeState.UNREACHABLE
    assert [a.kind for a in alerts] == ["unreachable"]


def test_retry_delays_double_then_settle_to_what_the_hub_can_afford() -> None:
    away = [3]
    retry = RetryDelay(1.0, 10.0, lambda: max(10.0, away[0] / 1.0), random.Random(1))
    delays = [retry.next() for _ in range(6)]
    for got, want in zip(delays, [1, 2, 4, 8, 10, 10], strict=True):
        assert want * 0.8 <= got <= want * 1.2
    away[0] = 100  # a hundred nodes away share about one attempt a second
    assert 80 <= retry.next() <= 120
    retry.reset()
    assert 0.8 <= retry.next() <= 1.2


def test_the_settled_retry_grows_with_the_nodes_away() -> None:
    names = "\n".join(f"  - {{name: n{i}, host: 10.0.1.{i}}}" for i in range(1, 41))
    hub = MetricsHub(parse_config(f"sample_interval: 1.0\nnodes:\n{names}\n"))
    assert hub.settled_retry() == 10.0  # nobody away yet
    for i in range(1, 41):
        hub.mark_state(f"n{i}", NodeState.UNREACHABLE, "refused")
    assert hub.settled_retry() == 40.0
