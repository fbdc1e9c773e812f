"""The controller's protocol: each request GridController answers, and its answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from gridtui.model.wire import Call

R = TypeVar("R")
# A Reservation, NodeView or event as its own `to_record()`: plain data, rebuilt by the
# model's `from_record()` on the caller's side.
Record = dict[str, Any]
Metrics = dict[str, dict[str, Any]]


# -- answers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Granted:
    """A request recorded pending; its client renews `lease` seconds at a time."""

    reservation: Record
    lease: float


@dataclass(frozen=True)
class Held:
    """A reservation as the controller holds it now."""

    reservation: Record


@dataclass(frozen=True)
class Ended:
    """Released or withdrawn (`already`: it was over before this call; then maybe none)."""

    reservation: Record | None
    already: bool


@dataclass(frozen=True)
class Booked:
    """Every current reservation, and the history when asked."""

    time: float
    version: str
    epoch: str
    reservations: list[Record]
    history: list[Record]


@dataclass(frozen=True)
class EventLog:
    """The events after a client's `seq` in this controller's life (`epoch`)."""

    epoch: str
    seq: int
    events: list[Record]


@dataclass(frozen=True)
class NodeList:
    nodes: list[Record]


@dataclass(frozen=True)
class Planned:
    """What `share` would pick now: (node, amount) bundles."""

    bundles: list[tuple[str, float]]
    reason: str


@dataclass(frozen=True)
class Placed:
    node: str
    node_id: str
    reason: str


@dataclass(frozen=True)
class Report:
    """Auto-offload's status, events or a drain's view: the engine's own record."""

    record: dict[str, Any]


# -- requests ------------------------------------------------------------------------------


class ControlCall(Call[R]):
    def run(self, party: ControllerParty) -> R:
        raise NotImplementedError


@dataclass(frozen=True)
class Reserve(ControlCall[Granted]):
    """A boost (`node`) or a share (`strategy`); checked again by the controller."""

    kind: str
    type: str
    amount: float
    ttl: float | None
    timeout: float
    owner: str
    node: str = ""
    strategy: str = ""
    metrics: Metrics | None = None

    def run(self, party: ControllerParty) -> Granted:
        return party.reserve(self)


@dataclass(frozen=True)
class Renew(ControlCall[Held]):
    rid: str

    def run(self, party: ControllerParty) -> Held:
        return party.renew(self)


@dataclass(frozen=True)
class Claim(ControlCall[Held]):
    rid: str

    def run(self, party: ControllerParty) -> Held:
        return party.claim(self)


@dataclass(frozen=True)
class Withdraw(ControlCall[Ended]):
    rid: str
    why: str

    def run(self, party: ControllerParty) -> Ended:
        return party.withdraw(self)


@dataclass(frozen=True)
class Release(ControlCall[Ended]):
    rid: str
    who: str = ""

    def run(self, party: ControllerParty) -> Ended:
        return party.release(self)


@dataclass(frozen=True)
class Snapshot(ControlCall[Booked]):
    history: bool = False

    def run(self, party: ControllerParty) -> Booked:
        return party.snapshot(self)


@dataclass(frozen=True)
class Events(ControlCall[EventLog]):
    epoch: str
    since: int

    def run(self, party: ControllerParty) -> EventLog:
        return party.events(self)


@dataclass(frozen=True)
class Nodes(ControlCall[NodeList]):
    metrics: Metrics | None = None

    def run(self, party: ControllerParty) -> NodeList:
        return party.nodes(self)


@dataclass(frozen=True)
class Plan(ControlCall[Planned]):
    type: str
    amount: float
    strategy: str
    metrics: Metrics | None = None

    def run(self, party: ControllerParty) -> Planned:
        return party.plan(self)


@dataclass(frozen=True)
class Place(ControlCall[Placed]):
    need: dict[str, float]
    strategy: str
    metrics: Metrics | None = None

    def run(self, party: ControllerParty) -> Placed:
        return party.place(self)


@dataclass(frozen=True)
class OffloadStatus(ControlCall[Report]):
    def run(self, party: ControllerParty) -> Report:
        return party.offload_status(self)


@dataclass(frozen=True)
class OffloadEvents(ControlCall[Report]):
    since: int = 0

    def run(self, party: ControllerParty) -> Report:
        return party.offload_events(self)


@dataclass(frozen=True)
class OffloadSet(ControlCall[Report]):
    policy: dict[str, Any]
    scopes: dict[str, str] | None = None

    def run(self, party: ControllerParty) -> Report:
        return party.offload_set(self)


@dataclass(frozen=True)
class Drain(ControlCall[Report]):
    node: str

    def run(self, party: ControllerParty) -> Report:
        return party.drain(self)


@dataclass(frozen=True)
class DrainProgress(ControlCall[Report]):
    node: str
    cancel: str = ""

    def run(self, party: ControllerParty) -> Report:
        return party.drain_progress(self)


@dataclass(frozen=True)
class Undrain(ControlCall[Report]):
    node: str

    def run(self, party: ControllerParty) -> Report:
        return party.undrain(self)


CALLS: tuple[type[ControlCall[Any]], ...] = (
    Reserve, Renew, Claim, Withdraw, Release, Snapshot, Events, Nodes, Plan, Place,
    OffloadStatus, OffloadEvents, OffloadSet, Drain, DrainProgress, Undrain,
)  # fmt: skip


class ControllerParty(Protocol):
    """What the controller answers: GridController implements it, `run` dispatches to it."""

    def reserve(self, ask: Reserve) -> Granted: ...
    def renew(self, ask: Renew) -> Held: ...
    def claim(self, ask: Claim) -> Held: ...
    def withdraw(self, ask: Withdraw) -> Ended: ...
    def release(self, ask: Release) -> Ended: ...
    def snapshot(self, ask: Snapshot) -> Booked: ...
    def events(self, ask: Events) -> EventLog: ...
    def nodes(self, ask: Nodes) -> NodeList: ...
    def plan(self, ask: Plan) -> Planned: ...
    def place(self, ask: Place) -> Placed: ...
    def offload_status(self, ask: OffloadStatus) -> Report: ...
    def offload_events(self, ask: OffloadEvents) -> Report: ...
    def offload_set(self, ask: OffloadSet) -> Report: ...
    def drain(self, ask: Drain) -> Report: ...
    def drain_progress(self, ask: DrainProgress) -> Report: ...
    def undrain(self, ask: Undrain) -> Report: ...
