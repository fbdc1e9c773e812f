"""A ControlService stand-in for console tests: recorded reservations, an offload engine's
state in memory, and recorded calls."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, cast

from gridtui.backend import Backend
from gridtui.errors import GridError
from gridtui.model.offload import OffloadEvent, OffloadPolicy, Trigger
from gridtui.model.reservations import (
    Bundle,
    Reservation,
    ReservationEvent,
    ReservationsSnapshot,
)
from gridtui.model.still_running import StillActor, StillRunning, StillTask
from gridtui.policy.scheduler import Placement
from gridtui.services.control.client import ReleaseResult, check_request
from gridtui.services.control.feed import ControlService
from gridtui.services.control.requests import Request

# The lab trace's last sample (its header's time): the recorded reservations' "now".
LAB_NOW = 1748856719.0
GIB = 1024**3


def lab_reservations(now: float = LAB_NOW) -> ReservationsSnapshot:
    """One of each look the pane has: pending, active with a TTL, expiring, a split share,
    and a lost one (box3 is dead in the recorded Ray view)."""

    def r(rid: str, kind: str, rtype: str, amount: float, bundles: tuple[Bundle, ...], state: str,
          age: float, ttl: float | None = None, **kw: Any) -> Reservation:  # fmt: skip
        created = now - age
        expires = None if ttl is None else now + ttl
        return Reservation(rid, kind, rtype, amount, bundles, state, created, expires, **kw)

    rows = (
        r("7c1e", "boost", "cpu", 2, (Bundle("box1", 2),), "pending", 3),
        r("3f2a", "boost", "cpu", 4, (Bundle("ws", 4),), "active", 125, ttl=1800),
        r("9b04", "boost", "memory", 2 * GIB, (Bundle("ws", 2 * GIB),), "active", 3700, ttl=42),
        r(
            "d51c",
            "share",
            "cpu",
            3,
            (Bundle("box1", 1), Bundle("box2", 2)),
            "active",
            610,
            strategy="spread",
            reason="spread over the least loaded nodes",
        ),
        r("e870", "boost", "cpu", 1, (Bundle("box3", 1),), "lost", 900, note="box3 died"),
    )
    return ReservationsSnapshot(now, rows, connected=True, controller_version="test")


def lab_offload_events(now: float = LAB_NOW) -> list[OffloadEvent]:
    """ws (the lab's head) fenced on CPU, lifted, fenced again; one dry-run spill on box1."""
    return [
        OffloadEvent(1, now - 300, "ws", Trigger("cpu", 86.0, 80.0, 10.0), "fence",
                     "done: holding 6 CPU"),
        OffloadEvent(2, now - 240, "ws", Trigger("cpu", 64.0, 70.0, 0.0), "unfence", "done"),
        OffloadEvent(3, now - 120, "box1", Trigger("memory", 91.0, 85.0, 12.0), "spill",
                     "dry-run"),
        OffloadEvent(4, now - 30, "ws", Trigger("cpu", 88.0, 80.0, 11.0), "fence",
                     "done: holding 4 CPU"),
    ]  # fmt: skip


def lab_still_running() -> StillRunning:
    """What still runs on ws while fenced: a zero-CPU actor (Ray#41824), one that held its
    CPU from before the fence, a zero-CPU task, and gridtui's own controller."""
    return StillRunning(
        (
            StillActor("Watcher", "9f3ac1d2e4b5a6978877", 0.0, 4242, "watcher"),
            StillActor("Trainer", "1c2d3e4f5a6b7c8d9e0f", 1.0, 4301),
        ),
        own=("GridController",),
        tasks=(StillTask("index_shard", 4410, 97.0),),
    )


class FakeControl:
    """What the console calls on a ControlService, answered at once from memory.

    `fail` makes the next calls raise it; `hold` keeps boosts pending until it is set."""

    def __init__(self, snapshot: ReservationsSnapshot | None = None, clock: float = LAB_NOW):
        self.snapshot = snapshot or ReservationsSnapshot(clock, connected=True)
        self.clock = clock
        self.calls: list[tuple[Any, ...]] = []
        self.fail: GridError | None = None
        # Why Ray keeps a boost waiting: said through `waiting` before it turns active.
        self.wait_reason = ""
        self._listeners: list[Callable[[ReservationsSnapshot], None]] = []
        self._event_listeners: list[Callable[[ReservationEvent], None]] = []
        self._n = 0
        # The controller's own client: calls through it need Ray (the REST API's offload,
        # place), which a fake gateway refuses.
        self.client: Any = None
        # The offload engine, as `offload_status` reports it.
        self.offload_policy = OffloadPolicy()
        self.offload_stored = False
        self.offload_fenced: list[str] = []
        self.offload_live: dict[str, dict[str, float]] = {}
        self.offload_log: list[OffloadEvent] = []
        # {fenced node: what still runs there}; None: a controller older than the report.
        self.offload_still: dict[str, StillRunning] | None = None
        self.offload_sets: list[OffloadPolicy] = []
        self.drained_nodes: set[str] = set()

    def lab_offload(self) -> FakeControl:
        """The lab's engine: on, watching the head (ws), ws fenced, four events."""
        self.offload_policy = dataclasses.replace(OffloadPolicy(), enabled=True)
        self.offload_stored = True
        self.offload_fenced = ["ws"]
        self.offload_log = lab_offload_events(self.clock)
        self.offload_still = {"ws": lab_still_running()}
        return self

    def subscribe(self, fn: Callable[[ReservationsSnapshot], None]) -> Callable[[], None]:
        self._listeners.append(fn)
        return lambda: None

    def subscribe_events(self, fn: Callable[[ReservationEvent], None]) -> Callable[[], None]:
        self._event_listeners.append(fn)
        return lambda: None

    def publish(self, reservations: tuple[Reservation, ...]) -> None:
        self.snapshot = ReservationsSnapshot(self.clock, reservations, connected=True)
        for fn in list(self._listeners):
            fn(self.snapshot)

    def emit(self, event: ReservationEvent) -> None:
        for fn in list(self._event_listeners):
            fn(event)

    def _check(self) -> None:
        if self.fail is not None:
            raise self.fail

    async def boost(self, node: str, req: Request, *, timeout: float = 30.0,
                    waiting: Any = None) -> Reservation:  # fmt: skip
        # As the real one: `req` was checked where it entered (gridtui/backend/checks.py).
        self.calls.append(("boost", node, req.type, req.amount, req.ttl))
        await asyncio.sleep(0)
        self._check()
        self._n += 1
        expires = None if req.ttl is None else self.clock + req.ttl
        r = Reservation(f"f{self._n:03d}", "boost", req.type, req.amount,
                        (Bundle(node, req.amount),), "active", self.clock + self._n, expires)  # fmt: skip
        if self.wait_reason and waiting is not None:
            waiting(r.replace(state="pending", waiting=self.wait_reason))
        self.publish((*self.snapshot.reservations, r))
        return r

    async def share(self, req: Request, strategy: str = "best-fit", *, timeout: float = 30.0,
                    waiting: Any = None) -> Reservation:  # fmt: skip
        self.calls.append(("share", req.type, req.amount, strategy, req.ttl))
        self._check()
        self._n += 1
        r = Reservation(f"s{self._n:03d}", "share", req.type, req.amount,
                        (Bundle("box1", req.amount),), "active", self.clock, strategy=strategy)  # fmt: skip
        self.publish((*self.snapshot.reservations, r))
        return r

    async def release(self, rid: str) -> ReleaseResult:
        self.calls.append(("release", rid))
        self._check()
        gone = next(r for r in self.snapshot.reservations if r.id == rid)
        self.publish(tuple(r for r in self.snapshot.reservations if r.id != rid))
        return ReleaseResult(gone.replace(state="released"), already=False)

    async def plan(self, rtype: str, amount: str | float, strategy: str = "best-fit") -> Placement:
        self.calls.append(("plan", rtype, amount, strategy))
        self._check()
        req = check_request(rtype, amount, None)
        half = req.amount / 2
        return Placement(strategy, req.type, (("box1", half), ("box2", half)), f"{strategy}: fake")

    async def refresh(self) -> ReservationsSnapshot:
        """What the controller holds now (the REST API reads it before it lists)."""
        await asyncio.sleep(0)
        self._check()
        return self.snapshot

    async def offload_status(self) -> dict[str, Any]:
        await asyncio.sleep(0)
        self._check()
        return {
            **self.offload_policy.to_record(),
            "stored": self.offload_stored,
            "fenced": list(self.offload_fenced),
            "live": dict(self.offload_live),
            **(
                {}
                if self.offload_still is None
                else {"still_running": {n: r.to_record() for n, r in self.offload_still.items()}}
            ),
        }

    async def offload_set(self, policy: OffloadPolicy, scopes: Mapping[str, str]) -> dict[str, Any]:
        self.calls.append(("offload_set", policy))
        self._check()
        self.offload_sets.append(policy)
        self.offload_policy, self.offload_stored = policy, True
        if not policy.enabled:
            self.offload_fenced = []
        return await self.offload_status()

    async def offload_events(self, since: int = 0) -> dict[str, Any]:
        self._check()
        seq = max((e.seq for e in self.offload_log), default=0)
        return {"seq": seq, "events": [e.to_record() for e in self.offload_log if e.seq > since]}

    async def drained(self) -> list[str]:
        self.calls.append(("drained",))
        return sorted(self.drained_nodes)

    async def node_drain(self, node: str) -> dict[str, Any]:
        self.calls.append(("node_drain", node))
        self._check()
        self.drained_nodes.add(node)
        return {"node": node, "fence": "done: holding 1 CPU", "spill": "done: none stored",
                "ray": "done: Ray drains it"}  # fmt: skip

    async def node_undrain(self, node: str) -> dict[str, Any]:
        self.calls.append(("node_undrain", node))
        self._check()
        self.drained_nodes.discard(node)
        return {"node": node, "fence": "done"}

    def wake(self) -> None:
        pass

    async def close(self) -> None:
        pass


def attach(backend: Backend, control: FakeControl) -> FakeControl:
    backend.attach_control(cast(ControlService, control))
    return control
