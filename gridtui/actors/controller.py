"""GridController: the detached actor on the head that owns reservations and their history.

Clients reach it through one typed entry, `call` (gridtui/model/wire/control.py): a
request goes in as plain data and comes back as its answer or a WireError, never as a
gridtui class (the client's own classes are not the ones this code was shipped with).
`info` is the one call outside that protocol: the version handshake any version reads."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping

import ray

from gridtui.actors import cluster, drain
from gridtui.actors.asks import Refusal
from gridtui.actors.desk import Desk
from gridtui.actors.offload_engine import OffloadEngine
from gridtui.model.wire import Wire, WireError, decode, encode
from gridtui.model.wire.control import (
    CALLS,
    Booked,
    Claim,
    ControlCall,
    Drain,
    DrainProgress,
    Ended,
    EventLog,
    Events,
    Granted,
    Held,
    NodeList,
    Nodes,
    OffloadEvents,
    OffloadSet,
    OffloadStatus,
    Place,
    Placed,
    Plan,
    Planned,
    Release,
    Renew,
    Report,
    Reserve,
    Snapshot,
    Undrain,
    Withdraw,
)
from gridtui.policy.scheduler import NoPlacement, choose, place


class GridController:
    """The reservation desk (desk.py), the offload engine and the drains, behind `call`.
    Two loops: an engine pass that waits on Ray (a fence, a sampler) never delays the
    withdrawal of a request whose client went away."""

    def __init__(self, version: str, tick: float = 1.0, history_limit: int = 200) -> None:
        self.version = version
        self.tick_seconds = tick
        self.started = time.time()
        self.epoch = uuid.uuid4().hex[:12]
        self._stop = threading.Event()
        self.offload = OffloadEngine()
        self._drains: dict[str, drain.DrainJob] = {}
        self.desk = Desk(history_limit, self.offload.busy, self._draining)
        self.recovered = drain.recover(self.offload)
        for name, step in (("gridtui-upkeep", self.tick), ("gridtui-offload", self.offload.tick)):
            threading.Thread(target=self._loop, args=(step,), name=name, daemon=True).start()

    # -- the entries ----------------------------------------------------------------------

    def info(self) -> dict[str, object]:
        return {
            "version": self.version,
            "epoch": self.epoch,
            "started": self.started,
            "pid": os.getpid(),
            "node_id": ray.get_runtime_context().get_node_id(),
            "rebuilt": self.desk.rebuilt,
            "python": sys.executable,
            # Where the code came from: pickled by value, so nodes need not have gridtui.
            "gridtui_installed": importlib.util.find_spec("gridtui") is not None,
        }

    def call(self, data: Wire) -> Wire:
        """One request of the protocol, answered; a refusal is a WireError value."""
        ask: ControlCall[object] = decode(data, CALLS)
        try:
            return encode(ask.run(self))
        except Refusal as exc:
            return encode(WireError(exc.kind, str(exc)))

    def tick(self) -> int:
        """One upkeep pass now (the loop runs one every `tick` seconds)."""
        return self.desk.tick()

    def stop(self) -> None:
        self._stop.set()

    # -- reading --------------------------------------------------------------------------

    def snapshot(self, ask: Snapshot) -> Booked:
        current, past = self.desk.book.snapshot(ask.history)
        return Booked(
            time.time(),
            self.version,
            self.epoch,
            [r.to_record() for r in current],
            [r.to_record() for r in past],
        )

    def events(self, ask: Events) -> EventLog:
        """Events after `since` in this controller's life (all of them for a new epoch)."""
        seq, found = self.desk.book.events_after(ask.since if ask.epoch == self.epoch else 0)
        return EventLog(self.epoch, seq, [e.to_record() for e in found])

    def nodes(self, ask: Nodes) -> NodeList:
        return NodeList([v.to_record() for v in self.desk.views(ask.metrics)])

    def plan(self, ask: Plan) -> Planned:
        """What `share` would choose now, without reserving anything (the sharing form)."""
        try:
            chosen = choose(self.desk.views(ask.metrics), ask.type, ask.amount, ask.strategy)
        except NoPlacement as exc:
            raise Refusal("refused", str(exc)) from None
        except ValueError as exc:
            raise Refusal("malformed", str(exc)) from None
        return Planned([(n, float(a)) for n, a in chosen.bundles], chosen.reason)

    def place(self, ask: Place) -> Placed:
        """One node for one task now, with its Ray node id (for node affinity)."""
        views = self.desk.views(ask.metrics)
        try:
            chosen = place(views, ask.need, ask.strategy)
        except NoPlacement as exc:
            raise Refusal("refused", str(exc)) from None
        except ValueError as exc:
            raise Refusal("malformed", str(exc)) from None
        node = chosen.bundles[0][0]
        node_id = next(v.node_id for v in views if v.name == node)
        return Placed(node, node_id, chosen.reason)

    def _draining(self, nodes: Mapping[str, cluster.RayNode]) -> set[str]:
        """Ray drains them, or a `gridtui node drain` is on its way to Ray's drain."""
        return cluster.draining(nodes) | {n for n, j in list(self._drains.items()) if j.running}

    # -- reservations (desk.py) -----------------------------------------------------------

    def reserve(self, ask: Reserve) -> Granted:
        return self.desk.reserve(ask)

    def renew(self, ask: Renew) -> Held:
        return self.desk.renew(ask)

    def claim(self, ask: Claim) -> Held:
        return self.desk.claim(ask)

    def withdraw(self, ask: Withdraw) -> Ended:
        return self.desk.withdraw(ask)

    def release(self, ask: Release) -> Ended:
        return self.desk.release(ask)

    # -- auto-offload and drains ----------------------------------------------------------

    def offload_status(self, ask: OffloadStatus) -> Report:
        return Report(self.offload.status())

    def offload_events(self, ask: OffloadEvents) -> Report:
        return Report(self.offload.read_events(ask.since))

    def offload_set(self, ask: OffloadSet) -> Report:
        return Report(self.offload.set_policy(ask.policy, ask.scopes))

    def drain(self, ask: Drain) -> Report:
        """Start a drain (drain.py): its client then renews it with `drain_progress`."""
        return Report(drain.begin(self.offload, ask.node, self._drains))

    def drain_progress(self, ask: DrainProgress) -> Report:
        return Report(drain.progress(self._drains, ask.node, ask.cancel))

    def undrain(self, ask: Undrain) -> Report:
        return Report(drain.undrain(self.offload, ask.node, self._drains))

    def _loop(self, step: Callable[[], int]) -> None:
        while not self._stop.wait(self.tick_seconds):
            # A Ray hiccup: the next pass tries again.
            with contextlib.suppress(Exception):
                step()
