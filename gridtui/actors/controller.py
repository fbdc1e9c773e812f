"""GridController: the detached actor on the head that owns reservations and their history.

Ray's placement group table is the truth: every reservation that holds resources is a
named, detached group, so a restarted controller rebuilds from it (plus the TTLs and
owners kept in Ray's KV) with the same ids. Answers are plain dicts, never gridtui
classes: the client's own classes are not the ones this code was shipped with."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import ray

from gridtui.actors import cluster, drain, ray_private, store
from gridtui.actors.asks import Refusal, adjusted, parse_spec, pick, unplaced
from gridtui.actors.book import Book, rebuild
from gridtui.actors.offload_engine import OffloadEngine
from gridtui.actors.upkeep import LEASE_SECONDS, Action, Lease, decide, waiting_reason
from gridtui.model.reservations import Bundle, Reservation, format_amount
from gridtui.policy.scheduler import NoPlacement, choose, place


def _fail(kind: str, message: str) -> dict[str, Any]:
    """malformed (exit 2), unknown (no such node or id), refused, timeout (exit 1)."""
    return {"error": {"kind": kind, "message": message}}


class GridController:
    """Serializes every change under one lock, and never waits on Ray while holding it. A
    request checks what is free (Ray's figures less what pending requests will take),
    records its group as pending, creates it and returns; its client waits for Ray,
    renewing a lease, and claims it once placed; upkeep withdraws a request whose lease
    lapsed. Two clients can never both take the last free CPU of a node: the check and
    the record happen under the lock."""

    def __init__(self, version: str, tick: float = 1.0, history_limit: int = 200) -> None:
        self.version = version
        self.tick_seconds = tick
        self.started = time.time()
        self.epoch = uuid.uuid4().hex[:12]
        self._mutate = threading.RLock()
        self.book = Book(history_limit)
        self._warned: set[str] = set()
        self._stop = threading.Event()
        self._nodes, self.rebuilt = rebuild(self.book)
        # Ids are never reused: a successor numbers above every id it finds.
        numbers = [int(r[1:]) for r in self.book.ids() if r[1:].isdigit()]
        self._next_id = max([1, *(n + 1 for n in numbers)])
        self.offload = OffloadEngine()
        self._drains: dict[str, drain.DrainJob] = {}
        self.recovered = drain.recover(self.offload)
        # Two loops: an engine pass that waits on Ray (a fence, a sampler) never delays
        # the withdrawal of a request whose client went away.
        for name, step in (("gridtui-upkeep", self.tick), ("gridtui-offload", self.offload.tick)):
            threading.Thread(target=self._loop, args=(step,), name=name, daemon=True).start()

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
        current, past = self.book.snapshot(history)
        return {
            "time": time.time(),
            "version": self.version,
            "epoch": self.epoch,
            "reservations": [r.to_record() for r in current],
            "history": [r.to_record() for r in past],
        }

    def events(self, epoch: str, since: int) -> dict[str, Any]:
        """Events after `since` in this controller's life (all of them for a new epoch)."""
        seq, found = self.book.events_after(since if epoch == self.epoch else 0)
        return {"epoch": self.epoch, "seq": seq, "events": [e.to_record() for e in found]}

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
        """Every node as the scheduler sees it: Ray's free figures less what pending
        requests will take, auto-offload's word on each, the draining ones marked."""
        pending, table = self._pending()
        nodes = cluster.ray_nodes()
        views = cluster.node_views(nodes, ray_private.available_per_node(), metrics)
        held = unplaced(pending, _created(table))
        return adjusted(views, held, self.offload.busy(), self._draining(nodes))

    def _pending(self) -> tuple[list[Reservation], dict[str, dict[str, Any]]]:
        """The pending records and, only while there are some, Ray's group table."""
        pending = self.book.pending()
        return pending, (cluster.group_table() if pending else {})

    def _draining(self, nodes: Mapping[str, cluster.RayNode]) -> set[str]:
        """Ray drains them, or a `gridtui node drain` is on its way to Ray's drain."""
        return cluster.draining(nodes) | {n for n, j in list(self._drains.items()) if j.running}

    def offload_status(self) -> dict[str, Any]:
        return self.offload.status()

    def offload_events(self, since: int = 0) -> dict[str, Any]:
        return self.offload.read_events(since)

    def offload_set(
        self, policy: dict[str, Any], scopes: dict[str, str] | None = None
    ) -> dict[str, Any]:
        return self.offload.set_policy(policy, scopes)

    def node_drain(self, node: str) -> dict[str, Any]:
        """Start a drain (drain.py): its client then renews it with `drain_progress`."""
        return drain.begin(self.offload, node, self._drains)

    def drain_progress(self, node: str, cancel: str = "") -> dict[str, Any]:
        return drain.progress(self._drains, node, cancel)

    def node_undrain(self, node: str) -> dict[str, Any]:
        return drain.undrain(self.offload, node, self._drains)

    def offload_tick(self) -> int:
        """One engine pass now (the loop runs one every tick)."""
        return self.offload.tick()

    # -- changing -------------------------------------------------------------------------

    def request(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        """Record and create a pending group; `spec`: kind, type, amount, node (boost) or
        strategy (share), ttl, owner, timeout, metrics. Returns {"reservation": record,
        "lease": seconds} at once, or {"error": ...} (a refusal leaves nothing behind).
        Its client then waits for Ray (`renew`) and claims it (`claim`)."""
        try:
            ask = parse_spec(spec)
        except ValueError as exc:
            return _fail("malformed", str(exc))
        busy = self.offload.busy()  # outside the lock: the engine may be mid-pass
        with self._mutate:
            pending, table = self._pending()
            available = ray_private.available_per_node()
            nodes = self._node_table(available, ask.node)
            views = cluster.node_views(nodes, available, spec.get("metrics"))
            held = unplaced(pending, _created(table))
            try:
                bundles, reason = pick(ask, adjusted(views, held, busy, self._draining(nodes)))
            except Refusal as exc:
                return _fail(exc.kind, str(exc))
            now = time.time()
            record = Reservation(
                id=self._take_id(ask.kind),
                kind=ask.kind,
                type=ask.type,
                amount=ask.amount,
                bundles=tuple(Bundle(n, a, nodes[n].node_id) for n, a in bundles),
                state="pending",
                created=now,
                expires=None if ask.ttl is None else now + ask.ttl,
                owner=ask.owner,
                strategy=ask.strategy,
                reason=reason,
            )
            # Kept before the group exists (the one KV write of a request): a successor
            # that finds the group knows it unclaimed and gives its client a lease.
            store.put(record)
            try:
                group = cluster.create_group(record, nodes)
            except Exception as exc:
                store.delete(record.id)
                return _fail("refused", f"Ray refused the group: {str(exc).splitlines()[0]}")
            record = record.replace(pg_id=group.id.hex())
            if table:  # others wait: say at once whether this one waits behind them
                fresh = {"placement_group_id": record.pg_id}
                where = {r.pg_id: r.node for r in pending}
                why = waiting_reason(record, fresh, table.values(), where)
                record = record.replace(waiting=why)
            lease = Lease(now + LEASE_SECONDS, now + ask.timeout + LEASE_SECONDS)
            self.book.put(record, lease)
        return {"reservation": record.to_record(), "lease": LEASE_SECONDS}

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

    def renew(self, rid: str) -> dict[str, Any]:
        """A waiting client's lease, renewed: {"reservation"} as held now (with why it
        still waits), or {"error"} once it was withdrawn. Never waits on the lock."""
        record = self.book.renew(rid, time.time())
        if record is None:
            return _fail("unknown", self.book.gone(rid))
        return {"reservation": record.to_record()}

    def claim(self, rid: str) -> dict[str, Any]:
        """Its client saw Ray place it and takes it: {"reservation"} active from now on (no
        lease), still pending while Ray has not placed it, or {"error"} once withdrawn."""
        with self._mutate:
            record = self.book.get(rid)
            if record is None:
                return _fail("unknown", self.book.gone(rid))
            if not self.book.leased(rid):
                return {"reservation": record.to_record()}
            if record.state == "pending":
                entry = cluster.group_entry(record.pg_id)
                if entry is None or entry.get("state") != "CREATED":
                    return {"reservation": record.to_record()}
                record = self._activated(record)
            store.put(record)  # active in the KV: claimed, so a successor gives no lease
            self.book.claim(rid)
        return {"reservation": record.to_record()}

    def withdraw(self, rid: str, why: str = "its client gave up") -> dict[str, Any]:
        """Remove a request its client will not use (interrupted, or out of time), in
        whatever state: {"reservation", "already"}."""
        with self._mutate:
            record = self.book.get(rid)
            if record is None:
                return {"already": True}
            ended = self._end(record, f"withdrawn: {why}")
        self.book.event("withdrawn", ended, f"{rid}: {_what(ended)} on {ended.node} {ended.note}")
        return {"reservation": ended.to_record(), "already": False}

    def release(self, rid: str, who: str = "") -> dict[str, Any]:
        """Give it back: {"reservation", "already"} or {"error"} for an unknown id. The
        wait for Ray to show its resources free again happens outside the lock."""
        with self._mutate:
            record = self.book.get(rid)
            if record is None:
                past = self.book.past(rid)
                if past is not None:
                    return {"reservation": past.to_record(), "already": True}
                return _fail("unknown", self.book.unknown(rid))
            placed = record.state in ("active", "expiring")
            before = ray_private.available_per_node() if placed else None
            note = f"released by {who}" if who else "released"
            ended = self._end(record, note)
        if before is not None:
            cluster.resources_back(record, before)
        self.book.event("released", ended, f"{rid}: {_what(ended)} on {ended.node} {note}")
        return {"reservation": ended.to_record(), "already": False}

    def tick(self) -> int:
        """One pass of the loop now (the loop runs it every `tick` seconds); the count of
        reservations it changed."""
        changed = 0
        with self._mutate:
            records, leases = self.book.current()
            if not records:
                return 0  # nothing to look after: no read of Ray's tables while idle
            self._nodes = cluster.ray_nodes()
            alive = {n.node_id for n in self._nodes.values() if n.alive}
            waiting = any(r.state == "pending" for r in records)
            table = cluster.group_table() if waiting else None
            draining = self._draining(self._nodes) if waiting else set()
            now = time.time()
            for record in records:
                if record.state == "lost":
                    entry = None
                elif table is not None:
                    entry = table.get(record.pg_id)
                else:
                    entry = cluster.group_entry(record.pg_id)
                state = None if entry is None else str(entry.get("state"))
                dead = [b.node for b in record.bundles if b.node_id and b.node_id not in alive]
                warned = record.id in self._warned
                action = decide(record, state, dead, now, warned, leases.get(record.id), draining)
                changed += self._apply(record, action, entry)
            if table is not None:
                self._explain(table)
        return changed

    def stop(self) -> None:
        self._stop.set()

    # -- inside ---------------------------------------------------------------------------

    def _explain(self, table: Mapping[str, Mapping[str, Any]]) -> None:
        """Why each pending record still waits, for its client and the Boosts pane."""
        records, _ = self.book.current()
        where = {r.pg_id: r.node for r in records}
        for record in records:
            entry = table.get(record.pg_id)
            if record.state == "pending" and entry is not None:
                self.book.explain(record, waiting_reason(record, entry, table.values(), where))

    def _activated(self, record: Reservation) -> Reservation:
        """Ray placed it: active from now, one `created` event."""
        updated = record.replace(state="active", waiting="")
        self.book.put(updated)
        if not self.book.leased(record.id):
            store.put(updated)
        self.book.event("created", updated, f"{record.id}: {_what(record)} on {record.node}")
        return updated

    def _apply(self, record: Reservation, action: Action, entry: Any) -> int:
        if action.kind == "keep":
            return 0
        if action.kind == "warn":
            self._warned.add(record.id)
            message = f"{record.id} on {record.node} {action.note}"
            self.book.event("expiring", record, message, "warning")
            return 1
        if action.kind == "activate":
            self._activated(record)
            return 1
        if action.kind == "lose":
            cluster.remove_group(record.pg_id)
            lost = record.replace(state="lost", note=action.note, ended=time.time())
            store.put(lost)
            self.book.put(lost)
            message = f"{record.id}: {_what(record)} on {record.node} lost: {action.note}"
            self.book.event("lost", lost, message, "error")
            return 1
        kind = {"expire": "expired", "vanish": "released", "withdraw": "withdrawn"}[action.kind]
        ended = self._end(record, action.note, remove=entry is not None)
        self.book.event(kind, ended, f"{record.id}: {_what(record)} on {record.node} {ended.note}")
        return 1

    def _end(self, record: Reservation, note: str, remove: bool = True) -> Reservation:
        """Remove its group (Ray answers at once, placed or not: no wait here) and move
        the record to the history."""
        if remove and record.held:
            cluster.remove_group(record.pg_id)
        ended = record.replace(state="released", note=note, ended=time.time(), waiting="")
        history = self.book.end(ended)
        self._warned.discard(record.id)
        store.delete(record.id)
        store.save_history(history)
        return ended

    def _take_id(self, kind: str) -> str:
        # Ids are never reused: the successor of a controller starts above every id in
        # its records and its history (which keeps the newest).
        number = self._next_id
        self._next_id += 1
        return f"{kind[0]}{number}"

    def _loop(self, step: Callable[[], int]) -> None:
        while not self._stop.wait(self.tick_seconds):
            # A Ray hiccup: the next pass tries again.
            with contextlib.suppress(Exception):
                step()


def _created(table: Mapping[str, Mapping[str, Any]]) -> set[str]:
    return {g for g, e in table.items() if e.get("state") == "CREATED"}


def _what(record: Reservation) -> str:
    return format_amount(record.type, record.amount)
