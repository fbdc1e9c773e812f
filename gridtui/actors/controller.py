"""GridController: the detached actor on the head that owns reservations and their history.

Ray's placement group table is the truth: every reservation that holds resources is a
named, detached group, so a restarted controller rebuilds from it (plus the TTLs and
owners kept in Ray's KV) with the same ids. Answers are plain dicts, never gridtui
classes: the client's own classes are not the ones this code was shipped with."""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import math
import os
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Mapping
from typing import Any

import ray

from gridtui.actors import cluster, ray_private, store
from gridtui.actors.offload_engine import OffloadEngine
from gridtui.actors.upkeep import Action, adopt, decide
from gridtui.model.reservations import (
    KINDS,
    RAY_RESOURCE,
    Bundle,
    Reservation,
    ReservationEvent,
    format_amount,
)
from gridtui.policy.amounts import AmountError, parse_amount, parse_ttl, parse_type
from gridtui.policy.scheduler import NoPlacement, check_strategy, choose, place

_EPS = 1e-9
EVENT_LIMIT = 500


def _fail(kind: str, message: str) -> dict[str, Any]:
    """malformed (exit 2), unknown (no such node or id), refused, timeout (exit 1)."""
    return {"error": {"kind": kind, "message": message}}


class GridController:
    """Serializes every change (one lock), so two clients can never both take the last
    free CPU of a node: the free check and the group's creation happen under it."""

    def __init__(self, version: str, tick: float = 1.0, history_limit: int = 200) -> None:
        self.version = version
        self.tick_seconds = tick
        self.started = time.time()
        self.epoch = uuid.uuid4().hex[:12]
        self._mutate = threading.RLock()
        self._state = threading.Lock()
        self._records: dict[str, Reservation] = {}
        self._history: deque[Reservation] = deque(maxlen=history_limit)
        self._events: deque[ReservationEvent] = deque(maxlen=EVENT_LIMIT)
        self._seq = 0
        self._warned: set[str] = set()
        self._next_id = 1
        self._nodes: dict[str, cluster.RayNode] = {}
        self._stop = threading.Event()
        self.rebuilt = self._rebuild()
        self.offload = OffloadEngine()
        self._thread = threading.Thread(target=self._loop, name="gridtui-upkeep", daemon=True)
        self._thread.start()

    # -- reading --------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "epoch": self.epoch,
            "started": self.started,
            "pid": os.getpid(),
            "node_id": ray.get_runtime_context().get_node_id(),
            "rebuilt": self.rebuilt,
            "python": sys.executable,
            # Where the code came from: pickled by value, so nodes need not have gridtui.
            "gridtui_installed": importlib.util.find_spec("gridtui") is not None,
        }

    def snapshot(self, history: bool = False) -> dict[str, Any]:
        with self._state:
            current = [r.to_record() for r in self._records.values()]
            past = [r.to_record() for r in self._history] if history else []
        return {
            "time": time.time(),
            "version": self.version,
            "epoch": self.epoch,
            "reservations": current,
            "history": past,
        }

    def events(self, epoch: str, since: int) -> dict[str, Any]:
        """Events after `since` in this controller's life (all of them for a new epoch)."""
        start = since if epoch == self.epoch else 0
        with self._state:
            found = [e.to_record() for e in self._events if e.seq > start]
        return {"epoch": self.epoch, "seq": self._seq, "events": found}

    def nodes(self, metrics: Mapping[str, Mapping[str, Any]] | None = None) -> list[Any]:
        return [v.to_record() for v in self._views(metrics)]

    def plan(
        self,
        rtype: str,
        amount: float,
        strategy: str,
        metrics: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """What `share` would choose now, without reserving anything (the sharing form)."""
        try:
            chosen = choose(self._views(metrics), rtype, amount, strategy)
        except NoPlacement as exc:
            return _fail("refused", str(exc))
        except ValueError as exc:
            return _fail("malformed", str(exc))
        return {"bundles": [list(b) for b in chosen.bundles], "reason": chosen.reason}

    def place(
        self,
        need: Mapping[str, float],
        strategy: str,
        metrics: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """One node for one task now, with its Ray node id (for node affinity)."""
        views = self._views(metrics)
        try:
            chosen = place(views, need, strategy)
        except NoPlacement as exc:
            return _fail("refused", str(exc))
        except ValueError as exc:
            return _fail("malformed", str(exc))
        node = chosen.bundles[0][0]
        node_id = next(v.node_id for v in views if v.name == node)
        return {"node": node, "node_id": node_id, "reason": chosen.reason}

    def _views(self, metrics: Mapping[str, Mapping[str, Any]] | None) -> list[Any]:
        return self._busy(cluster.current_views(metrics))

    def _busy(self, views: list[Any]) -> list[Any]:
        """The views with what auto-offload says of each node (local-first avoids a busy
        head)."""
        busy = self.offload.busy()
        return [dataclasses.replace(v, busy=busy[v.name]) if v.name in busy else v for v in views]

    def offload_status(self) -> dict[str, Any]:
        return self.offload.status()

    def offload_events(self, since: int = 0) -> dict[str, Any]:
        return self.offload.read_events(since)

    def offload_set(
        self, policy: dict[str, Any], scopes: dict[str, str] | None = None
    ) -> dict[str, Any]:
        return self.offload.set_policy(policy, scopes)

    def node_drain(self, node: str) -> dict[str, Any]:
        return self.offload.drain(node)

    def node_undrain(self, node: str) -> dict[str, Any]:
        return self.offload.undrain(node)

    def offload_tick(self) -> int:
        """One engine pass now (the loop runs one every tick)."""
        return self.offload.tick()

    # -- changing -------------------------------------------------------------------------

    def request(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        """Reserve; `spec`: kind, type, amount, node (boost) or strategy (share), ttl,
        owner, timeout, metrics. Returns {"reservation": record} or {"error": ...}; a
        refusal or a timeout leaves neither a group nor a record behind."""
        try:
            kind = str(spec.get("kind", "boost"))
            if kind not in KINDS:
                raise AmountError(f"unknown kind {kind!r}")
            rtype = parse_type(str(spec.get("type", "")))
            amount = parse_amount(rtype, spec.get("amount", ""))
            ttl = parse_ttl(spec.get("ttl"))
            strategy = check_strategy(str(spec.get("strategy") or "best-fit"))
            timeout = float(spec.get("timeout", 30.0))
            if not (math.isfinite(timeout) and timeout > 0):
                raise AmountError("timeout must be a positive number of seconds")
        except ValueError as exc:
            return _fail("malformed", str(exc))
        with self._mutate:
            available = ray_private.available_per_node()
            nodes = self._node_table(available, str(spec.get("node", "")))
            views = self._busy(cluster.node_views(nodes, available, spec.get("metrics")))
            if kind == "boost":
                picked = self._boost_bundles(str(spec.get("node", "")), rtype, amount, views)
                strategy = ""
            else:
                picked = self._share_bundles(rtype, amount, strategy, views)
            if "error" in picked:
                return picked
            now = time.time()
            record = Reservation(
                id=self._take_id(kind),
                kind=kind,
                type=rtype,
                amount=amount,
                bundles=tuple(Bundle(n, a, nodes[n].node_id) for n, a in picked["bundles"]),
                state="pending",
                created=now,
                expires=None if ttl is None else now + ttl,
                owner=str(spec.get("owner", "")),
                strategy=strategy,
                reason=picked["reason"],
            )
            return self._create(record, nodes, timeout)

    def _node_table(
        self, available: Mapping[str, Any], wanted: str = ""
    ) -> dict[str, cluster.RayNode]:
        """Ray's node table, cached between loop passes (it changes when nodes come and
        go): read again when a named node is missing, or a node alive in it has no
        available resources (Ray dropped it) or one with resources is not in it. A node
        counts as alive only when Ray also reports its available resources."""
        nodes = self._nodes
        known = {n.node_id for n in nodes.values() if n.alive}
        if (wanted and wanted not in nodes) or known != set(available) or not nodes:
            nodes = self._nodes = cluster.ray_nodes()
        return {name: n if n.node_id in available else n.dead() for name, n in nodes.items()}

    def _boost_bundles(
        self, node: str, rtype: str, amount: float, views: list[Any]
    ) -> dict[str, Any]:
        view = next((v for v in views if v.name == node), None)
        if view is None:
            known = ", ".join(v.name for v in views) or "none"
            return _fail("unknown", f"no Ray node named {node!r} (Ray has: {known})")
        if view.state == "DOWN":
            return _fail("refused", f"{node} is not alive in Ray")
        total, free = view.total(rtype), view.free(rtype)
        if total <= 0:
            return _fail("refused", f"{node} has no {RAY_RESOURCE[rtype]} in Ray")
        if amount > free + _EPS:
            return _fail(
                "refused",
                f"{node} has {format_amount(rtype, free)} free "
                f"(of {format_amount(rtype, total)}); asked {format_amount(rtype, amount)}",
            )
        return {"bundles": [(node, amount)], "reason": f"boost on {node}"}

    def _share_bundles(
        self, rtype: str, amount: float, strategy: str, views: list[Any]
    ) -> dict[str, Any]:
        try:
            chosen = choose(views, rtype, amount, strategy)
        except NoPlacement as exc:
            return _fail("refused", str(exc))
        return {"bundles": list(chosen.bundles), "reason": chosen.reason}

    def _create(
        self, record: Reservation, nodes: Mapping[str, cluster.RayNode], timeout: float
    ) -> dict[str, Any]:
        try:
            group = cluster.create_group(record, nodes)
        except Exception as exc:
            return _fail("refused", f"Ray refused the group: {str(exc).splitlines()[0]}")
        record = record.replace(pg_id=group.id.hex())
        # The one KV write of a request (the record keeps "pending": a successor reads
        # the state from Ray's table). Should this controller die between the two
        # calls, its successor adopts the group (without TTL) rather than lose it.
        store.put(record)
        try:
            ready = group.wait(max(1, math.ceil(timeout)))
        except Exception:
            ready = False
        if not ready:
            cluster.remove_group(record.pg_id)
            store.delete(record.id)
            return _fail("timeout", f"Ray did not place it within {timeout:g}s; withdrawn")
        record = record.replace(state="active")
        with self._state:
            self._records[record.id] = record
        self._event("created", record, f"{record.id}: {_what(record)} on {record.node}")
        return {"reservation": record.to_record()}

    def release(self, rid: str, who: str = "") -> dict[str, Any]:
        """Give it back: {"reservation", "already"} or {"error"} for an unknown id."""
        with self._mutate:
            record = self._records.get(rid)
            if record is None:
                with self._state:
                    past = next((r for r in self._history if r.id == rid), None)
                if past is not None:
                    return {"reservation": past.to_record(), "already": True}
                current = ", ".join(sorted(self._records)) or "none"
                return _fail("unknown", f"no reservation {rid!r} (current: {current})")
            note = f"released by {who}" if who else "released"
            ended = self._end(record, "released", note)
        self._event("released", ended, f"{rid}: {_what(ended)} on {ended.node} {note}")
        return {"reservation": ended.to_record(), "already": False}

    def tick(self) -> int:
        """One pass of the loop now (the loop runs it every `tick` seconds); the count of
        reservations it changed."""
        changed = 0
        with self._mutate:
            if not self._records:
                return 0  # nothing to look after: no read of Ray's tables while idle
            self._nodes = cluster.ray_nodes()
            alive = {n.node_id for n in self._nodes.values() if n.alive}
            now = time.time()
            for record in list(self._records.values()):
                if record.state == "lost":
                    entry = None
                    state = None
                else:
                    entry = cluster.group_entry(record.pg_id)
                    state = None if entry is None else str(entry.get("state"))
                dead = [b.node for b in record.bundles if b.node_id and b.node_id not in alive]
                action = decide(record, state, dead, now, record.id in self._warned)
                changed += self._apply(record, action, entry)
        return changed

    def stop(self) -> None:
        self._stop.set()

    # -- inside ---------------------------------------------------------------------------

    def _apply(self, record: Reservation, action: Action, entry: Any) -> int:
        if action.kind == "keep":
            return 0
        if action.kind == "warn":
            self._warned.add(record.id)
            self._event(
                "expiring", record, f"{record.id} on {record.node} {action.note}", "warning"
            )
            return 1
        if action.kind == "activate":
            updated = record.replace(state="active")
            store.put(updated)
            with self._state:
                self._records[record.id] = updated
            return 1
        if action.kind == "lose":
            cluster.remove_group(record.pg_id)
            lost = record.replace(state="lost", note=action.note, ended=time.time())
            store.put(lost)
            with self._state:
                self._records[record.id] = lost
            message = f"{record.id}: {_what(record)} on {record.node} lost: {action.note}"
            self._event("lost", lost, message, "error")
            return 1
        kind = {"expire": "expired", "vanish": "released", "withdraw": "withdrawn"}[action.kind]
        ended = self._end(record, "released", action.note, remove=entry is not None)
        self._event(kind, ended, f"{record.id}: {_what(record)} on {record.node} {action.note}")
        return 1

    def _end(self, record: Reservation, state: str, note: str, remove: bool = True) -> Reservation:
        if remove and record.state in ("active", "expiring"):
            cluster.remove_and_wait(record)
        elif remove and record.held:
            cluster.remove_group(record.pg_id)
        ended = record.replace(state=state, note=note, ended=time.time())
        with self._state:
            self._records.pop(record.id, None)
            self._history.append(ended)
            history = list(self._history)
        self._warned.discard(record.id)
        store.delete(record.id)
        store.save_history(history)
        return ended

    def _event(
        self, kind: str, record: Reservation, message: str, severity: str = "information"
    ) -> None:
        with self._state:
            self._seq += 1
            self._events.append(
                ReservationEvent(
                    self._seq, time.time(), kind, record.id, record.node, message, severity
                )
            )

    def _take_id(self, kind: str) -> str:
        # Ids are never reused: the successor of a controller starts above every id in
        # its records and its history (which keeps the newest).
        number = self._next_id
        self._next_id += 1
        return f"{kind[0]}{number}"

    def _loop(self) -> None:
        while not self._stop.wait(self.tick_seconds):
            # A Ray hiccup: the next pass tries again.
            with contextlib.suppress(Exception):
                self.tick()
            with contextlib.suppress(Exception):
                self.offload.tick()

    def _rebuild(self) -> dict[str, int]:
        """Reservations from Ray's group table; TTLs and owners from the KV records."""
        stored = store.load_all()
        groups = cluster.gridtui_groups()
        nodes = self._nodes = cluster.ray_nodes()
        by_id = {n.node_id: n.name for n in nodes.values()}
        restored = adopted = dropped = 0
        for rid, entry in groups.items():
            record = stored.pop(rid, None)
            state = "active" if entry.get("state") == "CREATED" else "pending"
            if record is None:
                record = adopt(rid, entry, by_id, state, time.time())
                store.put(record)
                adopted += 1
            else:
                record = record.replace(state=state, pg_id=str(entry["placement_group_id"]))
                restored += 1
            self._records[rid] = record
        self._history.extend(store.load_history())
        for rid, record in stored.items():
            if record.state == "lost":
                self._records[rid] = record
                restored += 1
            else:
                self._history.append(
                    record.replace(state="released", note="its placement group is gone")
                )
                store.delete(rid)
                dropped += 1
        numbers = [int(r[1:]) for r in self._records if r[1:].isdigit()]
        numbers += [int(r.id[1:]) for r in self._history if r.id[1:].isdigit()]
        self._next_id = max([1, *(n + 1 for n in numbers)])
        return {"restored": restored, "adopted": adopted, "dropped": dropped}


def _what(record: Reservation) -> str:
    return format_amount(record.type, record.amount)
