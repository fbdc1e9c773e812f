"""Backend's Ray side without Ray: the demo's start shown as progress, then the gateway polls."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gridtui.backend import DEMO_STARTING, Backend
from gridtui.config import ClusterConfig
from gridtui.services import demo
from gridtui.services import ray_gateway as gateway
from gridtui.services.lifecycle import ClusterError, NodeProgress


def demo_like() -> ClusterConfig:
    return ClusterConfig.model_validate(
        {"name": "demo", "demo": True, "nodes": [{"name": "head", "host": "127.0.0.2"}]}
    )


async def test_demo_start_is_pending_progress_then_the_gateway_polls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[bool | None, bool, str]] = []
    release = asyncio.Event()
    polled = asyncio.Event()

    async def fake_start(progress: Any) -> ClusterConfig:
        progress(NodeProgress("head", "start", "running"))
        await release.wait()
        return demo_like()

    async def fake_poll(self: gateway.RayGateway, hub: Any, interval: float) -> None:
        polled.set()
        await asyncio.sleep(3600)

    monkeypatch.setattr(demo, "ensure_demo_running", fake_start)
    monkeypatch.setattr(gateway.RayGateway, "poll", fake_poll)
    backend = Backend(demo_like(), streaming=False)
    await backend.start()
    await asyncio.sleep(0.05)
    snap = backend.metrics.snapshot()
    seen.append((snap.ray_connected, snap.ray_pending, snap.ray_message))
    assert seen == [(False, True, f"{DEMO_STARTING} head start")]
    assert not polled.is_set()
    release.set()
    await asyncio.wait_for(polled.wait(), 2)
    await backend.stop()
    assert backend.gateway is not None and not backend.gateway.connected


async def test_a_failed_demo_start_says_why_and_raises_an_alert(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def fake_start(progress: Any) -> ClusterConfig:
        raise ClusterError("the demo cluster did not start", ["head: port in use"])

    async def fake_poll(self: gateway.RayGateway, hub: Any, interval: float) -> None:
        await asyncio.sleep(3600)

    monkeypatch.setattr(demo, "ensure_demo_running", fake_start)
    monkeypatch.setattr(gateway.RayGateway, "poll", fake_poll)
    backend = Backend(demo_like(), streaming=False)
    alerts: list[Any] = []
    backend.metrics.subscribe_alerts(alerts.append)
    await backend.start()
    await asyncio.sleep(0.05)
    snap = backend.metrics.snapshot()
    assert snap.ray_connected is False and not snap.ray_pending
    assert snap.ray_message == "demo did not start: the demo cluster did not start"
    assert [a.severity for a in alerts] == ["error"]
    await backend.stop()


async def test_recorded_data_starts_no_ray() -> None:
    backend = Backend(demo_like(), streaming=False, ray=False)
    await backend.start()
    await backend.stop()
    assert backend.gateway is None and backend.metrics.snapshot().ray_connected is None
