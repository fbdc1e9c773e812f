"""The coalescing publisher, the event stream and the Ray view service built on them."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from gridtui.model.nodes import RayNodeInfo
from gridtui.model.ray import RayClusterView
from gridtui.services.metrics.alerts import AlertStream
from gridtui.services.publish import EventStream, Publisher
from gridtui.services.ray.gateway import RayUnavailable
from gridtui.services.ray.view import RayView


class Counter:
    def __init__(self) -> None:
        self.builds = 0
        self.state = 0

    def build(self) -> int:
        self.builds += 1
        return self.state


async def test_changes_in_one_window_make_one_publish_of_one_build() -> None:
    source = Counter()
    publisher = Publisher.coalescing(source.build, window=0.05)
    seen: list[int] = []
    publisher.subscribe(seen.append)
    for i in range(1, 20):
        source.state = i
        publisher.changed()
    assert seen == [] and source.builds == 0  # nothing is built before the window ends
    await asyncio.sleep(0.2)
    assert seen == [19] and source.builds == 1
    assert publisher.value() == 19 and source.builds == 1  # the published value is reused


async def test_no_listener_means_no_work() -> None:
    source = Counter()
    publisher = Publisher.coalescing(source.build, window=0.01)
    for _ in range(10):
        publisher.changed()
    await asyncio.sleep(0.05)
    assert source.builds == 0
    assert publisher.value() == 0 and source.builds == 1  # built lazily when asked


async def test_publish_now_replaces_the_pending_publish_and_unsubscribe_stops_it() -> None:
    source = Counter()
    publisher = Publisher.coalescing(source.build, window=0.05)
    seen: list[int] = []
    unsubscribe = publisher.subscribe(seen.append)
    publisher.changed()
    publisher.publish_now()
    await asyncio.sleep(0.15)
    assert seen == [0]
    unsubscribe()
    unsubscribe()  # twice is harmless
    publisher.changed()
    await asyncio.sleep(0.15)
    assert seen == [0]


def test_without_a_running_loop_it_publishes_at_once() -> None:
    source = Counter()
    publisher = Publisher.coalescing(source.build)
    seen: list[int] = []
    publisher.subscribe(seen.append)
    source.state = 5
    publisher.changed()
    assert seen == [5]


def test_a_published_value_reaches_every_listener_at_once_and_stays_the_newest() -> None:
    publisher = Publisher("initial")
    first: list[str] = []
    second: list[str] = []
    publisher.subscribe(first.append)
    unsubscribe = publisher.subscribe(second.append)
    assert publisher.value() == "initial"
    publisher.publish("a")
    unsubscribe()
    publisher.publish("b")
    assert (first, second, publisher.value()) == (["a", "b"], ["a"], "b")


def test_event_stream_delivers_every_event_and_keeps_a_bounded_history() -> None:
    stream: EventStream[int] = EventStream(history=3)
    seen: list[int] = []
    stream.subscribe(seen.append)
    for i in range(5):
        stream.emit(i)
    assert seen == [0, 1, 2, 3, 4]
    assert stream.history == (2, 3, 4)


def test_alert_stream_stamps_alerts_with_its_clock() -> None:
    alerts = AlertStream(clock=lambda: 42.0)
    seen = []
    alerts.subscribe(seen.append)
    alerts.raise_alert("n1", "demo", "did not start", "error")
    assert [(a.time, a.node, a.kind, a.severity) for a in seen] == [(42.0, "n1", "demo", "error")]


# -- the Ray view ----------------------------------------------------------------------------


def info(cpu_available: float) -> RayNodeInfo:
    return RayNodeInfo(True, "n" * 56, 4, cpu_available)


def test_ray_view_keeps_unchanged_nodes_and_skips_unchanged_views() -> None:
    view = RayView()
    seen: list[RayClusterView] = []
    view.subscribe(seen.append)
    first = {"a": info(4), "b": info(2)}
    view.set(True, first)
    view.set(True, {"a": info(4), "b": info(2)})  # equal: nothing new to publish
    assert len(seen) == 1
    view.set(True, {"a": info(4), "b": info(1)})
    assert len(seen) == 2
    assert seen[1].node("a") is first["a"]  # unchanged node, same object
    assert seen[1].node("b") == info(1)
    with pytest.raises(TypeError):
        seen[1].nodes["c"] = info(0)  # type: ignore[index]


class FakeGateway:
    """Fails to connect `failures` times, then answers with one node per call."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.connected = False
        self.message = "not connected"
        self.reads = 0
        self.dropped: list[str] = []

    async def connect(self) -> None:
        if self.failures:
            self.failures -= 1
            self.message = "the Ray head at h:1 does not answer"
            raise RayUnavailable(self.message)
        self.connected, self.message = True, ""

    async def nodes(self) -> dict[str, RayNodeInfo]:
        self.reads += 1
        return {"a": info(float(self.reads))}

    async def drop(self, why: str) -> None:
        self.dropped.append(why)
        self.connected, self.message = False, why


async def test_ray_view_loop_reports_down_then_connects_and_wakes_on_demand() -> None:
    view = RayView(window=0.0)
    seen: list[RayClusterView] = []
    view.subscribe(seen.append)
    gateway = FakeGateway(failures=1)
    task = asyncio.create_task(view.run(gateway, interval=3600))  # type: ignore[arg-type]
    for _ in range(100):
        await asyncio.sleep(0.01)
        if seen:
            break
    assert seen[0] == RayClusterView(False, "the Ray head at h:1 does not answer")
    view.wake()  # no waiting for the backoff: the cluster changed
    for _ in range(100):
        await asyncio.sleep(0.01)
        if view.view().connected:
            break
    assert view.view().node("a") == info(1.0)
    view.wake()  # an immediate read, not one an hour later
    for _ in range(100):
        await asyncio.sleep(0.01)
        if gateway.reads == 2:
            break
    assert view.view().node("a") == info(2.0)
    view.close()
    await asyncio.wait_for(task, 2)  # the loop ends by itself


def test_a_feed_exists_before_its_service_and_says_so_until_it_publishes() -> None:
    from gridtui.feeds import ALERTS, MEMORY, NOT_YET, Feeds

    feeds = Feeds()
    seen: list[str] = []
    feeds[MEMORY].subscribe(lambda snap: seen.append(snap.message))
    assert feeds[MEMORY].value().message == NOT_YET
    assert feeds[MEMORY] is feeds[MEMORY]  # one publisher per key: a front subscribes once
    feeds[MEMORY].publish(dataclasses.replace(feeds[MEMORY].value(), message="listed"))
    assert seen == ["listed"]
    assert isinstance(feeds[ALERTS], EventStream)  # events: none replaced, none skipped
