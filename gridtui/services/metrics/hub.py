"""MetricsHub: fans in every node's agent stream, keeps bounded history, judges node state."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from gridtui.config import ClusterConfig, NodeConfig
from gridtui.model.nodes import (
    HISTORY_METRICS,
    ClusterSnapshot,
    NodeSample,
    NodeState,
    NodeStatus,
    Ring,
)
from gridtui.policy.thresholds import Edge, Threshold, Track, step
from gridtui.services.metrics.agent_launch import agent_argv, agent_source
from gridtui.services.metrics.alerts import AlertStream
from gridtui.services.publish import Listener, Publisher
from gridtui.transport.base import NodeTransport, TransportError

log = logging.getLogger(__name__)

# How much history a snapshot carries per metric: enough for the widest sparkline.
# The detail screen asks the hub for the whole ring.
SNAPSHOT_POINTS = 240
# A node that falls silent is judged from its last sample; the failure itself came up to
# one interval later, so DOWN at 2.5 intervals (checked every quarter interval) keeps
# detection within 3 intervals of the failure.
STALE_AFTER_INTERVALS = 1.6
DOWN_AFTER_INTERVALS = 2.5
PRESSURE_CLEAR_MARGIN = 5.0  # percentage points below the threshold before re-arming
# A node that is away is tried again after 1, 2, 4, 8 s, then every 10 s, or less often
# when many are away: all of them together get about RETRY_RATE attempts a second. One
# attempt (an SSH connect, retried by the transport) costs 15-35 ms of CPU, so a hundred
# nodes away for good cost next to nothing (bench/idle_cost.py), while a few nodes back
# from a reboot are seen within seconds.
RETRY_FIRST = 1.0
RETRY_SETTLED = 10.0
RETRY_RATE = 1.0
RETRY_LONGEST = 120.0


class RetryDelay:
    """Waits between a lost node's connection attempts: doubling from `first` while under
    `quick` seconds (a blip is over soon), then what `settled()` says now; each wait is
    jittered by ±20% so nodes lost together do not retry in the same instant."""

    def __init__(
        self,
        first: float,
        quick: float,
        settled: Callable[[], float],
        rng: random.Random | None = None,
    ) -> None:
        self.first, self.quick, self.settled = first, quick, settled
        self.attempt = 0
        self._rng = rng or random.Random()

    def next(self) -> float:
        delay = self.first * 2**self.attempt
        if delay >= self.quick:
            delay = self.settled()
        else:
            self.attempt += 1
        return delay * self._rng.uniform(0.8, 1.2)

    def reset(self) -> None:
        self.attempt = 0


_AWAY = (NodeState.DOWN, NodeState.UNREACHABLE)


class _NodeTrack:
    """Mutable per-node bookkeeping; only the hub touches it, always on its own loop."""

    def __init__(self, node: NodeConfig, capacity: int) -> None:
        self.node = node
        self.state = NodeState.CONNECTING
        self.reason = ""
        self.sample: NodeSample | None = None
        self.last_seen: float | None = None  # monotonic time of the last sample
        self.last_seen_wall: float | None = None
        self.ever_up = False
        self.rings = {m: Ring(capacity) for m in HISTORY_METRICS}
        self.pressure: dict[str, Track] = {}
        self.status_cache: NodeStatus | None = None
        self.stream_task: asyncio.Task[None] | None = None


class MetricsHub:
    """Owns one streaming task per node and publishes coalesced ClusterSnapshots: node
    figures, history and node state, nothing else. Its own alerts (down, back, pressure)
    go to the alert stream it is given."""

    def __init__(
        self,
        config: ClusterConfig,
        transports: Mapping[str, NodeTransport] | None = None,
        *,
        publish_interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        alerts: AlertStream | None = None,
    ) -> None:
        self.config = config
        self.interval = config.sample_interval
        self.transports = dict(transports or {})
        self.publish_interval = publish_interval or min(0.25, self.interval / 2)
        self._clock = clock
        self._wall = wall_clock
        capacity = max(2, min(7200, round(config.history_seconds / self.interval)))
        self._tracks = {n.name: _NodeTrack(n, capacity) for n in config.nodes}
        self.alerts = alerts if alerts is not None else AlertStream(wall_clock)
        limits = config.alerts
        self._pressure = {
            kind: Threshold(limit, limits.sustain_seconds, PRESSURE_CLEAR_MARGIN)
            for kind, limit in (
                ("cpu", limits.cpu_percent),
                ("memory", limits.memory_percent),
                ("gpu", limits.gpu_percent),
            )
        }
        self._tasks: list[asyncio.Task[None]] = []
        self.published = Publisher.coalescing(self._build_snapshot, window=self.publish_interval)

    def subscribe(self, listener: Listener[ClusterSnapshot]) -> Callable[[], None]:
        return self.published.subscribe(listener)

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Start one stream per node that has a transport, and the staleness watchdog."""
        for name, track in self._tracks.items():
            transport = self.transports.get(name)
            if transport is not None:
                track.stream_task = asyncio.create_task(
                    self._stream_node(track, transport), name=f"stream:{name}"
                )
                self._tasks.append(track.stream_task)
        self._tasks.append(asyncio.create_task(self._watchdog(), name="hub-watchdog"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        self.published.cancel()
        for transport in self.transports.values():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(transport.close(), 5)

    # -- ingest -------------------------------------------------------------------------

    async def _stream_node(self, track: _NodeTrack, transport: NodeTransport) -> None:
        retry = RetryDelay(min(RETRY_FIRST, self.interval), RETRY_SETTLED, self.settled_retry)
        argv = agent_argv(track.node, self.interval, self.config)
        while True:
            last_noise = ""
            try:
                stream = await transport.open_stream(argv, input=agent_source())
                try:
                    async for line in stream:
                        if line.startswith("{"):
                            try:
                                data = json.loads(line)
                            except ValueError:
                                continue
                            self.record(track.node.name, data)
                            retry.reset()
                        elif line.strip():
                            last_noise = line.strip()[-200:]
                finally:
                    await stream.close()
                reason = f"agent stream ended{': ' + last_noise if last_noise else ''}"
                self._lost(track, "closed", reason)
            except TransportError as exc:
                self._lost(track, exc.reason, exc.message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug or an odd node must not end the watch
                log.exception("stream for %s failed", track.node.name)
                self._lost(track, "error", f"{exc.__class__.__name__}: {exc}")
            await asyncio.sleep(retry.next())

    def settled_retry(self) -> float:
        """How long a lost node waits between tries once its quick ones are spent."""
        away = sum(t.state in _AWAY for t in self._tracks.values())
        spread = min(RETRY_LONGEST, away / RETRY_RATE)
        return max(RETRY_SETTLED, 10 * self.interval, spread)

    async def _restart_stream(self, track: _NodeTrack, transport: NodeTransport) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(transport.reset(), 5)
        await self._stream_node(track, transport)

    def record(self, name: str, data: Mapping[str, Any], received: float | None = None) -> None:
        """Take one agent reading (from a stream, or recorded data in tests and demos)."""
        track = self._tracks[name]
        now = self._clock() if received is None else received
        sample = NodeSample.from_agent(data, self._wall() if received is None else received)
        prev = track.sample
        rings = track.rings
        rings["cpu"].append(sample.cpu_percent)
        rings["mem"].append(sample.mem_percent)
        gpu = sample.gpu_percent
        rings["gpu"].append(gpu if gpu is not None else 0.0)
        gmem = [g.mem_percent for g in sample.gpus]
        rings["gpu_mem"].append(sum(gmem) / len(gmem) if gmem else 0.0)
        rings["load1"].append(sample.load[0])
        if prev is not None and sample.time > prev.time:
            dt = sample.time - prev.time
            rings["net_rx_rate"].append(max(0.0, (sample.net_rx - prev.net_rx) / dt))
            rings["net_tx_rate"].append(max(0.0, (sample.net_tx - prev.net_tx) / dt))
        track.sample = sample
        track.last_seen = now
        track.last_seen_wall = sample.received
        was = track.state
        track.state, track.reason = NodeState.UP, ""
        if was in (NodeState.DOWN, NodeState.UNREACHABLE) and track.ever_up:
            self._alert(name, "back", f"{name} is back up", "information")
        track.ever_up = True
        self._check_pressure(track, now)
        self._changed(track)

    def _lost(self, track: _NodeTrack, reason: str, message: str) -> None:
        was, said = track.state, track.reason
        track.state = NodeState.DOWN if track.ever_up else NodeState.UNREACHABLE
        track.reason = message if reason in message else f"{reason}: {message}"
        if (track.state, track.reason) == (was, said):
            return  # another failed retry of a node already shown away: nothing to publish
        if was in (NodeState.UP, NodeState.STALE):
            self._alert(track.node.name, "down", f"{track.node.name} is down: {message}", "error")
        elif was is NodeState.CONNECTING and track.state is NodeState.UNREACHABLE:
            self._alert(
                track.node.name, "unreachable", f"{track.node.name} unreachable: {message}", "error"
            )
        self._changed(track)

    async def _watchdog(self) -> None:
        while True:
            await asyncio.sleep(self.interval / 4)
            self.check_staleness()

    def check_staleness(self, now: float | None = None) -> None:
        """Mark UP nodes STALE after 1.6 intervals of silence and DOWN after 2.5."""
        now = self._clock() if now is None else now
        for track in self._tracks.values():
            if track.state not in (NodeState.UP, NodeState.STALE) or track.last_seen is None:
                continue
            age = now - track.last_seen
            if age > DOWN_AFTER_INTERVALS * self.interval:
                self._lost(track, "timeout", f"no sample for {age:.1f}s")
                # A silent link (no FIN, no RST) keeps the stream and its connection open:
                # drop both and start again, so the new stream does not wait on a dead link.
                transport = self.transports.get(track.node.name)
                if track.stream_task is not None and transport is not None:
                    track.stream_task.cancel()
                    track.stream_task = asyncio.create_task(
                        self._restart_stream(track, transport), name=f"stream:{track.node.name}"
                    )
                    self._tasks.append(track.stream_task)
            elif age > STALE_AFTER_INTERVALS * self.interval and track.state is NodeState.UP:
                track.state, track.reason = NodeState.STALE, f"last sample {age:.1f}s ago"
                self._changed(track)

    def _check_pressure(self, track: _NodeTrack, now: float) -> None:
        sample = track.sample
        if sample is None:
            return
        readings = {"cpu": sample.cpu_percent, "memory": sample.mem_percent}
        if sample.gpu_percent is not None:
            readings["gpu"] = sample.gpu_percent
        for kind, value in readings.items():
            rule = self._pressure[kind]
            result = step(rule, track.pressure.get(kind, Track()), value, now)
            track.pressure[kind] = result.track
            if result.edge is Edge.RISE:
                self._alert(
                    track.node.name,
                    "pressure",
                    f"{track.node.name}: {kind} at {value:.0f}% for "
                    f"{result.held:.0f}s (threshold {rule.limit:.0f}%)",
                    "warning",
                )

    # -- publish ------------------------------------------------------------------------

    def _alert(self, node: str, kind: str, message: str, severity: str) -> None:
        self.alerts.raise_alert(node, kind, message, severity)

    def _changed(self, track: _NodeTrack) -> None:
        track.status_cache = None
        self.published.changed()

    def publish_now(self) -> None:
        self.published.publish_now()

    def _status(self, track: _NodeTrack) -> NodeStatus:
        if track.status_cache is None:
            track.status_cache = NodeStatus(
                name=track.node.name,
                host=track.node.host,
                role="head" if track.node is self.config.head else "worker",
                state=track.state,
                reason=track.reason,
                sample=track.sample,
                history={m: ring.tail(SNAPSHOT_POINTS) for m, ring in track.rings.items()},
                last_seen=track.last_seen_wall,
            )
        return track.status_cache

    def snapshot(self) -> ClusterSnapshot:
        return self.published.value()

    def _build_snapshot(self) -> ClusterSnapshot:
        return ClusterSnapshot(
            name=self.config.name,
            time=self._wall(),
            nodes=tuple(self._status(t) for t in self._tracks.values()),
            demo=self.config.demo,
            ray_auth=self.config.ray.auth,
        )

    def history(self, node: str, metric: str) -> tuple[float, ...]:
        """The whole ring for one metric: the detail screen's charts."""
        return self._tracks[node].rings[metric].values()

    def node_names(self) -> Iterable[str]:
        return self._tracks.keys()

    def mark_state(self, name: str, state: NodeState, reason: str = "") -> None:
        """Set a node's state from outside the stream (recorded data, demos)."""
        track = self._tracks[name]
        track.state, track.reason = state, reason
        self._changed(track)
