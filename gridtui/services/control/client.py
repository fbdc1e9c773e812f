"""ControlClient: the controller's one client, for the CLI, the Python API and the console.

Its calls block: they run on the thread that owns the Ray driver (the console's
`ControlService` runs them through `RayGateway.call`). Ray is imported only when a call
needs it, so importing this module costs nothing on the console's start path."""

from __future__ import annotations

import contextlib
import getpass
import os
import socket
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from gridtui import __version__
from gridtui.config import ClusterConfig
from gridtui.errors import ControllerMismatch
from gridtui.model.actor_names import CONTROLLER_NAME as CONTROLLER_NAME
from gridtui.model.actor_names import NAMESPACE as NAMESPACE
from gridtui.model.offload import OffloadPolicy
from gridtui.model.reservations import (
    NodeView,
    Reservation,
    ReservationEvent,
    ReservationsSnapshot,
)
from gridtui.model.wire import WireError, answer, encode
from gridtui.model.wire.control import (
    ControlCall,
    Events,
    Metrics,
    Nodes,
    OffloadEvents,
    OffloadSet,
    OffloadStatus,
    Place,
    Plan,
    Record,
    Release,
    Snapshot,
    Undrain,
)
from gridtui.policy.scheduler import DEFAULT_STRATEGY, Placement

# The errors and the pending request live with the requests; the fronts import them here.
from gridtui.services.control.requests import BadRequest as BadRequest
from gridtui.services.control.requests import NotFound as NotFound
from gridtui.services.control.requests import Pending as Pending
from gridtui.services.control.requests import Refused as Refused
from gridtui.services.control.requests import Request as Request
from gridtui.services.control.requests import Requests, error_of
from gridtui.services.control.requests import check_node as check_node
from gridtui.services.control.requests import check_request as check_request
from gridtui.services.control.requests import check_strategy_name as check_strategy_name
from gridtui.services.control.requests import check_timeout as check_timeout
from gridtui.services.ray.gateway import RayGateway, RayUnavailable

R = TypeVar("R")
# Seconds a client waits for any one answer of the controller (none of them waits on Ray).
ANSWER_SLACK = 15.0


@dataclass(frozen=True)
class ReleaseResult:
    reservation: Reservation
    already: bool


@dataclass(frozen=True)
class ControllerInfo:
    version: str
    epoch: str
    started: float
    pid: int
    node_id: str
    rebuilt: Mapping[str, int]
    python: str = ""
    gridtui_installed: bool = False


def owner_tag(front: str) -> str:
    """Who asked: shown in the Boosts pane and kept in the reservation's record."""
    with contextlib.suppress(Exception):
        user = getpass.getuser()
        return f"{user}@{socket.gethostname()} ({front}, pid {os.getpid()})"
    return f"{front}, pid {os.getpid()}"


def ship_by_value() -> None:
    """Nodes have Python and Ray but not gridtui: the controller's code (actors, model,
    policy) travels pickled by value instead of by import."""
    import ray

    import gridtui.actors.controller
    import gridtui.agent.sampler
    import gridtui.model.reservations
    import gridtui.policy.scheduler

    for module in (gridtui.actors, gridtui.agent, gridtui.model, gridtui.policy):
        ray.cloudpickle.register_pickle_by_value(module)


class ControlClient(Requests):
    """Blocking calls to the controller, found by name or created on the head on demand.
    Requests wait for Ray on the client's side (control_requests.py), never in the actor."""

    def __init__(
        self,
        config: ClusterConfig | None = None,
        *,
        owner: str = "",
        version: str = __version__,
        call_timeout: float = 30.0,
    ) -> None:
        self.config = config
        self.owner = owner or owner_tag("api")
        self.version = version
        self.call_timeout = call_timeout
        self._handle: Any = None
        self._job = ""
        self._epoch = ""
        self._seq = 0
        self._renewed: dict[str, tuple[float, Reservation]] = {}

    # -- the actor ------------------------------------------------------------------------

    def handle(self) -> Any:
        """The controller's handle, checked to run this gridtui version."""
        import ray

        # A handle from an earlier driver (the console reconnected) is no use now.
        job = ray.get_runtime_context().get_job_id() if ray.is_initialized() else ""
        if self._handle is None or job != self._job:
            self._handle = self._find_or_create()
            self._job = job
        return self._handle

    def _find_or_create(self) -> Any:
        import ray

        if not ray.is_initialized():
            raise RayUnavailable("not connected to Ray")
        deadline = time.monotonic() + self.call_timeout
        while True:
            handle = self._lookup() or self._create()
            try:
                info = ray.get(handle.info.remote(), timeout=self.call_timeout)
            except ray.exceptions.RayActorError:
                # A controller killed a moment ago still holds its name: ask again.
                if time.monotonic() > deadline:
                    raise RayUnavailable("the gridtui controller keeps dying") from None
                time.sleep(0.2)
                continue
            except ray.exceptions.GetTimeoutError:
                raise RayUnavailable(
                    f"the gridtui controller did not answer in {self.call_timeout:g}s"
                ) from None
            if info.get("version") != self.version:
                raise ControllerMismatch(
                    f"the cluster's controller runs gridtui {info.get('version')}, this is "
                    f"{self.version}: `gridtui boost controller --replace` swaps it "
                    "(reservations are kept)"
                )
            return handle

    @staticmethod
    def _lookup() -> Any:
        from gridtui.actors import registry

        return registry.find_controller()

    def _create(self) -> Any:
        from gridtui.actors import registry
        from gridtui.actors.cluster import ray_nodes
        from gridtui.actors.controller import GridController

        ship_by_value()
        head = next((n for n in ray_nodes().values() if n.head and n.alive), None)
        if head is None:
            raise RayUnavailable("Ray's head node is not alive")
        return registry.start_controller(GridController, self.version, head.node_id)

    def ask(self, call: ControlCall[R], *, timeout: float | None = None, retry: bool = True) -> R:
        """Send one request of the controller's protocol; its refusal is raised here as
        BadRequest, NotFound or Refused. A controller that died is found again once."""
        got = answer(self._raw(lambda h: h.call.remote(encode(call)), timeout, retry), call)
        if isinstance(got, WireError):
            raise error_of(got)
        return got

    def _raw(self, send: Callable[[Any], Any], timeout: float | None, retry: bool = True) -> Any:
        import ray

        limit = self.call_timeout if timeout is None else timeout
        for attempt in (1, 2):
            handle = self.handle()
            try:
                return ray.get(send(handle), timeout=limit)
            except ray.exceptions.RayActorError:
                self._handle = None
                if not retry or attempt == 2:
                    raise RayUnavailable(
                        "the gridtui controller died during the call; it is recreated "
                        "on the next one"
                    ) from None
            except ray.exceptions.GetTimeoutError:
                raise RayUnavailable(
                    f"the gridtui controller did not answer in {limit:g}s"
                ) from None
        raise AssertionError("unreachable")

    def info(self) -> ControllerInfo:
        data = self._raw(lambda h: h.info.remote(), None)
        return ControllerInfo(
            str(data["version"]),
            str(data["epoch"]),
            float(data["started"]),
            int(data["pid"]),
            str(data["node_id"]),
            dict(data.get("rebuilt", {})),
            str(data.get("python", "")),
            bool(data.get("gridtui_installed")),
        )

    def replace_controller(self) -> ControllerInfo:
        """Kill whatever controller runs (any version) and start this one; reservations
        survive: the new one rebuilds them from Ray's tables."""
        import ray

        old = self._lookup()
        if old is not None:
            ray.kill(old)
            # The name is free only once Ray has the old one dead; before that, a lookup
            # would find it again (and it might still answer).
            deadline = time.monotonic() + self.call_timeout
            while self._lookup() is not None:
                if time.monotonic() > deadline:
                    raise RayUnavailable("the old gridtui controller did not go away")
                time.sleep(0.1)
        self._handle = None
        return self.info()

    # -- reservations ---------------------------------------------------------------------

    def release(self, rid: str) -> ReleaseResult:
        ended = self.ask(Release(rid, self.owner))
        if ended.reservation is None:  # released before: the history has it
            raise NotFound(f"no reservation {rid}")
        return ReleaseResult(Reservation.from_record(ended.reservation), ended.already)

    def snapshot(self, history: bool = True) -> ReservationsSnapshot:
        """Current reservations (states as of now: `expiring` in the last minute)."""
        data = self.ask(Snapshot(history))
        now = data.time

        def load(records: list[Record]) -> tuple[Reservation, ...]:
            out = (Reservation.from_record(r) for r in records)
            return tuple(sorted((r.replace(state=r.state_at(now)) for r in out), key=_order))

        return ReservationsSnapshot(
            time=now,
            reservations=load(data.reservations),
            history=load(data.history),
            controller_version=data.version,
            connected=True,
        )

    def reservations(self, history: bool = False) -> list[Reservation]:
        snap = self.snapshot(history)
        return [*snap.reservations, *snap.history]

    def events(self) -> list[ReservationEvent]:
        """Events since the last call (all of a new controller's after it was replaced)."""
        log = self.ask(Events(self._epoch, self._seq))
        self._epoch, self._seq = log.epoch, log.seq
        return [ReservationEvent.from_record(e) for e in log.events]

    def node_views(self, metrics: Mapping[str, Mapping[str, Any]] | None = None) -> list[NodeView]:
        return [NodeView.from_record(v) for v in self.ask(Nodes(_metrics(metrics))).nodes]

    def plan(
        self,
        rtype: str,
        amount: str | float,
        strategy: str = DEFAULT_STRATEGY,
        metrics: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> Placement:
        """What `share` would pick now, reserving nothing (the sharing form's preview)."""
        request = check_request(rtype, amount, None)
        plan = Plan(request.type, request.amount, check_strategy_name(strategy), _metrics(metrics))
        planned = self.ask(plan)
        bundles = tuple((str(n), float(a)) for n, a in planned.bundles)
        return Placement(strategy, request.type, bundles, planned.reason)

    def place(
        self,
        need: Mapping[str, float],
        strategy: str = DEFAULT_STRATEGY,
        metrics: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> dict[str, str]:
        """{node, node_id, reason}: the node the strategy picks now for one task."""
        ask = Place(dict(need), check_strategy_name(strategy), _metrics(metrics))
        placed = self.ask(ask)
        return {"node": placed.node, "node_id": placed.node_id, "reason": placed.reason}

    # -- auto-offload (the engine in the controller: gridtui/actors/offload_engine.py) -----

    def offload_status(self) -> dict[str, Any]:
        return self.ask(OffloadStatus()).record

    def offload_set(self, policy: OffloadPolicy, scopes: Mapping[str, str]) -> dict[str, Any]:
        """Replace the running policy; a malformed one is refused and changes nothing."""
        return self.ask(OffloadSet(policy.to_record(), dict(scopes))).record

    def offload_events(self, since: int = 0) -> dict[str, Any]:
        return self.ask(OffloadEvents(since)).record

    def node_undrain(self, node: str) -> dict[str, Any]:
        return self.ask(Undrain(node)).record


def _metrics(metrics: Mapping[str, Mapping[str, Any]] | None) -> Metrics | None:
    return {n: dict(m) for n, m in metrics.items()} if metrics else None


def _order(r: Reservation) -> tuple[float, str]:
    return (r.created, r.id)


@contextlib.asynccontextmanager
async def driver(config: ClusterConfig) -> AsyncIterator[RayGateway]:
    """A connected Ray driver for one command: the gateway's connect, closed at the end."""
    gateway = RayGateway(config)
    try:
        await gateway.connect()
        yield gateway
    finally:
        await gateway.close()
