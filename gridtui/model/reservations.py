"""Reservations (boosts and shared allocations) and the node views the scheduler reads."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gridtui.model.feed import NOT_YET, FeedKey

KINDS = ("boost", "share")
TYPES = ("cpu", "gpu", "memory")
STATES = ("pending", "active", "expiring", "lost", "released")
# A reservation whose TTL ends within this many seconds shows as `expiring`.
EXPIRING_WINDOW = 60.0
# The Ray resource each reservation type holds.
RAY_RESOURCE = {"cpu": "CPU", "gpu": "GPU", "memory": "memory"}
PG_PREFIX = "gridtui:"
# The Ray node label `gridtui cluster start` sets to the node's name (services.ray_commands).
NODE_LABEL = "gridtui.node"
NODE_STATES = ("UP", "STALE", "DOWN")


def pg_name(kind: str, rid: str) -> str:
    """The placement group's name: what ties Ray's table back to a reservation id."""
    return f"{PG_PREFIX}{kind}:{rid}"


def parse_pg_name(name: str) -> tuple[str, str] | None:
    """(kind, id) for a gridtui placement group name, None for anyone else's."""
    if not name.startswith(PG_PREFIX):
        return None
    kind, _, rid = name[len(PG_PREFIX) :].partition(":")
    if kind not in KINDS or not rid:
        return None
    return kind, rid


def format_amount(rtype: str, amount: float) -> str:
    """`2 CPU`, `0.5 GPU`, `512 MiB`: how an amount reads in tables and messages."""
    if rtype == "memory":
        for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
            if amount >= size:
                return f"{amount / size:.4g} {unit}"
        return f"{amount:.0f} B"
    return f"{amount:.4g} {RAY_RESOURCE.get(rtype, rtype)}"


@dataclass(frozen=True)
class Bundle:
    """One node's share of a reservation: one placement-group bundle."""

    node: str
    amount: float
    node_id: str = ""


@dataclass(frozen=True)
class Reservation:
    """A boost (one bundle on a node the user named) or a shared allocation (bundles on
    the nodes a strategy chose). `created`/`expires` are Unix times; `expires` None means
    it lives until released."""

    id: str
    kind: str
    type: str
    amount: float
    bundles: tuple[Bundle, ...]
    state: str
    created: float
    expires: float | None = None
    owner: str = ""
    strategy: str = ""
    reason: str = ""
    ended: float | None = None
    pg_id: str = ""
    # What happened to it last: "expired", "released by ...", "worker-1 died".
    note: str = ""
    # Why a pending one is not placed yet ("waiting for Ray: ..."); "" once placed.
    waiting: str = ""

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(b.node for b in self.bundles)

    @property
    def node(self) -> str:
        """The node (boosts), or the nodes joined by commas (a split allocation)."""
        return ",".join(self.nodes)

    @property
    def pg_name(self) -> str:
        return pg_name(self.kind, self.id)

    @property
    def held(self) -> bool:
        """Whether Ray still holds resources for it (a placement group exists)."""
        return self.state in ("pending", "active", "expiring")

    def state_at(self, now: float) -> str:
        """The state to show at `now`: an active one in its last minute is `expiring`."""
        if (
            self.state == "active"
            and self.expires is not None
            and self.expires - now <= EXPIRING_WINDOW
        ):
            return "expiring"
        return self.state

    def ttl_left(self, now: float) -> float | None:
        return None if self.expires is None else max(0.0, self.expires - now)

    def replace(self, **changes: Any) -> Reservation:
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """The CLI's and the API's object: the issue's seven fields first, then the rest."""
        amount: float | int = int(self.amount) if self.type == "memory" else self.amount
        return {
            "id": self.id,
            "node": self.node,
            "type": self.type,
            "amount": amount,
            "state": self.state,
            "created": self.created,
            "expires": self.expires,
            "kind": self.kind,
            "nodes": [{"node": b.node, "amount": b.amount} for b in self.bundles],
            "strategy": self.strategy,
            "reason": self.reason,
            "owner": self.owner,
            "ended": self.ended,
            "note": self.note,
            "waiting": self.waiting,
        }

    def to_record(self) -> dict[str, Any]:
        """Everything, as plain data: what crosses the actor boundary and the KV store."""
        record = dataclasses.asdict(self)
        record["bundles"] = [dataclasses.asdict(b) for b in self.bundles]
        return record

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> Reservation:
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        values["bundles"] = tuple(
            Bundle(str(b["node"]), float(b["amount"]), str(b.get("node_id", "")))
            for b in data.get("bundles", ())
        )
        values["amount"] = float(values.get("amount", 0.0))
        return cls(**values)


_FREE = {"cpu": "cpu_free", "gpu": "gpu_free", "memory": "mem_free"}
_TOTAL = {"cpu": "cpu_total", "gpu": "gpu_total", "memory": "mem_total"}
_UTIL = {"cpu": "cpu_util", "gpu": "gpu_util", "memory": "mem_util"}


@dataclass(frozen=True)
class NodeView:
    """What the scheduler knows of a node: Ray's free and total resources (memory in bytes
    of Ray's `memory` resource) and, when a console watches it, live utilisation in percent.

    `state` is UP, STALE or DOWN; a node Ray calls dead is DOWN whatever the metrics say.
    A draining node is UP (what runs there goes on) but takes nothing new."""

    name: str
    node_id: str = ""
    role: str = "worker"
    state: str = "UP"
    cpu_total: float = 0.0
    cpu_free: float = 0.0
    gpu_total: float = 0.0
    gpu_free: float = 0.0
    mem_total: float = 0.0
    mem_free: float = 0.0
    cpu_util: float | None = None
    mem_util: float | None = None
    gpu_util: float | None = None
    busy: str = ""
    """Why auto-offload counts the node busy (fenced, or over a threshold); "" when not."""
    draining: bool = False
    """Ray drains it, or `gridtui node drain` does: nothing new is placed there."""

    # Field lookups by name, not a dict per call: the scheduler asks thousands of times.
    def free(self, rtype: str) -> float:
        return getattr(self, _FREE[rtype])

    def total(self, rtype: str) -> float:
        return getattr(self, _TOTAL[rtype])

    def util(self, rtype: str) -> float | None:
        """Live utilisation for `rtype` (None without live figures)."""
        return getattr(self, _UTIL[rtype])

    def used_fraction(self, rtype: str) -> float:
        """Ray's reserved share (1 - free/total): the load figure when nothing live exists."""
        total = self.total(rtype)
        return 1.0 - self.free(rtype) / total if total > 0 else 1.0

    @property
    def live(self) -> bool:
        return self.cpu_util is not None or self.mem_util is not None

    def to_record(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> NodeView:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class ReservationEvent:
    """Something the controller did on its own or for a client, for alerts and logs.

    `seq` grows by one per event, so a console asks for what came after the last it saw."""

    seq: int
    time: float
    kind: str  # created, released, expired, expiring, lost, withdrawn, adopted
    reservation: str
    node: str
    message: str
    severity: str = "information"  # Textual's names: information, warning, error

    def to_record(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> ReservationEvent:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class ReservationsSnapshot:
    """What a Boosts pane draws: current reservations, recent history, the controller."""

    time: float
    reservations: tuple[Reservation, ...] = ()
    history: tuple[Reservation, ...] = ()
    controller_version: str = ""
    connected: bool = False
    message: str = ""

    def reserved(self) -> dict[str, dict[str, float]]:
        """{node: {type: amount held}} for the Nodes table's "reserved" figure."""
        out: dict[str, dict[str, float]] = {}
        for r in self.reservations:
            if not r.held:
                continue
            for b in r.bundles:
                per = out.setdefault(b.node, {})
                per[r.type] = per.get(r.type, 0.0) + b.amount
        return out

    def for_node(self, node: str) -> tuple[Reservation, ...]:
        """Reservations with a bundle on `node`, newest first (`-` releases the first)."""
        mine = [r for r in self.reservations if node in r.nodes]
        return tuple(sorted(mine, key=lambda r: r.created, reverse=True))


def finite_positive(value: float) -> bool:
    return math.isfinite(value) and value > 0


RESERVATIONS: FeedKey[ReservationsSnapshot] = FeedKey(
    "reservations", lambda: ReservationsSnapshot(time.time(), message=NOT_YET)
)
"""Boosts and shared allocations, as the controller's poll reads them."""
