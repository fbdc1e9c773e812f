"""Backend's Ray side without Ray: the demo's start shown as progress, then the Ray view polls."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gridtui.backend import DEMO_STARTING, Backend
from gridtui.config import ClusterConfig
from gridtui.services.cluster import demo
from gridtui.services.cluster.lifecycle import ClusterError, NodeProgress
from gridtui.services.ray import view as ray_view
from gridtui.services.ray.gateway import RayGateway


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

    async def fake_poll(self: ray_view.RayView, gateway: RayGateway, interval: float) -> None:
        polled.set()
        await asyncio.sleep(3600)

    monkeypatch.setattr(demo, "ensure_demo_running", fake_start)
    monkeypatch.setattr(ray_view.RayView, "run", fake_poll)
    backend = Backend(demo_like(), streaming=False)
    await backend.start()
    await asyncio.sleep(0.05)
    view = backend.ray_view.view()
    seen.append((view.connected, view.pending, view.message))
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

    async def fake_poll(self: ray_view.RayView, gateway: RayGateway, interval: float) -> None:
        await asyncio.sleep(3600)

    monkeypatch.setattr(demo, "ensure_demo_running", fake_start)
    monkeypatch.setattr(ray_view.RayView, "run", fake_poll)
    backend = Backend(demo_like(), streaming=False)
    alerts: list[Any] = []
    backend.alerts.subscribe(alerts.append)
    await backend.start()
    await asyncio.sleep(0.05)
    view = backend.ray_view.view()
    assert view.connected is False and not view.pending
    assert view.message == "demo did not start: the demo cluster did not start"
    assert [a.severity for a in alerts] == ["error"]
    await backend.stop()


async def test_recorded_data_starts_no_ray() -> None:
    backend = Backend(demo_like(), streaming=False, ray=False)
    await backend.start()
    await backend.stop()
    assert backend.gateway is None and backend.ray_view.view().connected is None
