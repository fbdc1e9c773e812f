"""ControlService: the console's async face on the controller, publishing what it reads.

Every call runs on the Ray gateway's thread (`RayGateway.call`); a poll publishes
ReservationsSnapshots to `subscribe`rs and new ReservationEvents to `subscribe_events`rs
(a lost reservation is an `error` event: the console raises it as an alert)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from typing import Any

from gridtui.model.nodes import ClusterSnapshot, NodeState
from gridtui.model.offload import OffloadPolicy
from gridtui.model.reservations import (
    NodeView,
    Reservation,
    ReservationEvent,
    ReservationsSnapshot,
)
from gridtui.policy.scheduler import DEFAULT_STRATEGY, Placement
from gridtui.services.control.calls import ControlCalls
from gridtui.services.control.client import ANSWER_SLACK, ReleaseResult, owner_tag
from gridtui.services.control.requests import (
    NOTICE_AFTER,
    POLL_SECONDS,
    Pending,
    Request,
    drain_done,
)
from gridtui.services.polled import PolledFeed
from gridtui.services.publish import EventStream
from gridtui.services.ray.driver_stubs import control_client
from gridtui.services.ray.gateway import RayGateway


def metrics_table(snapshot: ClusterSnapshot | None) -> dict[str, dict[str, Any]] | None:
    """The hub's live figures as the controller's scheduler reads them."""
    if snapshot is None:
        return None
    table: dict[str, dict[str, Any]] = {}
    for node in snapshot.nodes:
        if node.state is NodeState.UP:
            state = "UP"
        elif node.state in (NodeState.DOWN, NodeState.UNREACHABLE):
            state = "DOWN"
        elif node.state is NodeState.STALE:
            state = "STALE"
        else:
            continue  # CONNECTING: no figures yet, Ray's view decides
        table[node.name] = {
            "state": state,
            "cpu": node.cpu_percent,
            "mem": node.mem_percent,
            "gpu": node.gpu_percent,
        }
    return table


EventListener = Callable[[ReservationEvent], None]
Waiting = Callable[[Reservation], None]
"""Told (once per new reason) why a request still waits, after NOTICE_AFTER seconds."""


class ControlService(PolledFeed[ReservationsSnapshot]):
    """The console's face: each call on the gateway's thread; a poll publishes snapshots
    (to `subscribe`rs) and new events (to `subscribe_events`rs: lost boosts are `error`)."""

    task_name = "control-poll"

    def __init__(
        self,
        gateway: RayGateway,
        client: ControlCalls | None = None,
        *,
        live: Callable[[], ClusterSnapshot | None] = lambda: None,
    ) -> None:
        super().__init__(gateway, ReservationsSnapshot(time=time.time(), message="not connected"))
        # An isolated gateway's driver holds the client (typed requests reach it).
        self.client = client or control_client(gateway, owner_tag("console"))
        self.live = live
        self.events: EventStream[ReservationEvent] = EventStream(history=100)

    def subscribe_events(self, listener: EventListener) -> Callable[[], None]:
        return self.events.subscribe(listener)

    async def boost(
        self, node: str, request: Request, *, timeout: float = 30.0,
        waiting: Waiting | None = None,
    ) -> Reservation:  # fmt: skip
        """A checked `request` (gridtui/backend/checks.py) on `node`, once Ray placed it."""
        pending = await self.gateway.call(
            lambda: self.client.request_boost(node, request, timeout=timeout),
            2 * ANSWER_SLACK,
        )
        return await self._settle(pending, waiting)

    async def share(
        self, request: Request, strategy: str = DEFAULT_STRATEGY, *, timeout: float = 30.0,
        waiting: Waiting | None = None,
    ) -> Reservation:  # fmt: skip
        """A checked `request` where the checked `strategy` puts it, once Ray placed it."""
        metrics = metrics_table(self.live())
        pending = await self.gateway.call(
            lambda: self.client.request_share(request, strategy, timeout=timeout, metrics=metrics),
            2 * ANSWER_SLACK,
        )
        return await self._settle(pending, waiting)

    async def _settle(self, pending: Pending, waiting: Waiting | None) -> Reservation:
        """Look every POLL_SECONDS (each look a short call: the gateway's thread stays free
        for everyone else) until Ray placed it; a cancel (Ctrl-C, a closed console) or a
        failure withdraws it before it is raised."""
        self.wake()  # the Boosts pane shows it pending
        said, start = "", time.monotonic()
        try:
            while True:
                r = await self.gateway.call(lambda: self.client.poll(pending), 2 * ANSWER_SLACK)
                if r.state != "pending":
                    self.wake()
                    return r
                late = time.monotonic() - start >= NOTICE_AFTER
                if waiting is not None and late and r.waiting and r.waiting != said:
                    said = r.waiting
                    waiting(r)
                await asyncio.sleep(POLL_SECONDS)
        except BaseException:
            with contextlib.suppress(Exception):
                await asyncio.shield(
                    self.gateway.call(
                        lambda: self.client.withdraw(pending.id, "its client was interrupted"),
                        2 * ANSWER_SLACK,
                    )
                )
            self.wake()
            raise

    async def release(self, rid: str) -> ReleaseResult:
        result = await self.gateway.call(lambda: self.client.release(rid), 2 * ANSWER_SLACK)
        self.wake()
        return result

    async def plan(
        self, rtype: str, amount: str | float, strategy: str = DEFAULT_STRATEGY
    ) -> Placement:
        metrics = metrics_table(self.live())
        return await self.gateway.call(lambda: self.client.plan(rtype, amount, strategy, metrics))

    async def drained(self) -> list[str]:
        """Nodes drained by `gridtui node drain` (or the console's key)."""
        status = await self.gateway.call(self.client.offload_status)
        return [str(n) for n in status.get("drained", [])]

    async def node_drain(self, node: str) -> dict[str, Any]:
        """Fence, move stored objects off, Ray's drain: minutes at most (objects move). The
        drain runs in the controller; this waits, renewing its lease, and a cancel before
        Ray's drain undoes it."""
        await self.gateway.call(lambda: self.client.drain_begin(node), 2 * ANSWER_SLACK)
        try:
            while True:
                view = await self.gateway.call(
                    lambda: self.client.drain_poll(node), 2 * ANSWER_SLACK
                )
                done = drain_done(view)
                if done is not None:
                    self.wake()
                    return done
                await asyncio.sleep(2 * POLL_SECONDS)
        except BaseException:
            with contextlib.suppress(Exception):
                await asyncio.shield(
                    self.gateway.call(
                        lambda: self.client.drain_poll(node, "its client was interrupted"),
                        2 * ANSWER_SLACK,
                    )
                )
            self.wake()
            raise

    async def node_undrain(self, node: str) -> dict[str, Any]:
        done = await self.gateway.call(lambda: self.client.node_undrain(node), 2 * ANSWER_SLACK)
        self.wake()
        return done

    async def node_views(self) -> list[NodeView]:
        metrics = metrics_table(self.live())
        return await self.gateway.call(lambda: self.client.node_views(metrics))

    # -- auto-offload: the engine's calls (services/offload/feed.py polls and publishes) ---

    async def offload_status(self) -> dict[str, Any]:
        return await self.gateway.call(self.client.offload_status)

    async def offload_set(self, policy: OffloadPolicy, scopes: Mapping[str, str]) -> dict[str, Any]:
        return await self.gateway.call(lambda: self.client.offload_set(policy, scopes))

    async def offload_events(self, since: int = 0) -> dict[str, Any]:
        return await self.gateway.call(lambda: self.client.offload_events(since))

    async def refresh(self) -> ReservationsSnapshot:
        """Read the controller now and publish what changed (events first)."""
        events = await self.gateway.call(self.client.events)
        snap = await self.gateway.call(self.client.snapshot)
        for event in events:
            self.events.emit(event)
        self._publish(snap)
        return snap

    def unavailable(self, message: str) -> ReservationsSnapshot:
        return ReservationsSnapshot(time.time(), message=message)
