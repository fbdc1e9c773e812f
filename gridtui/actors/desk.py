"""The reservation desk: requests recorded, leased, claimed, withdrawn, released, expired.

GridController's reservation half. Ray's placement group table is the truth: every
reservation that holds resources is a named, detached group, so a restarted controller
rebuilds from it (plus the TTLs and owners kept in Ray's KV) with the same ids."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from gridtui.actors import cluster, ray_private, store
from gridtui.actors.asks import Refusal, adjusted, parse_spec, pick, unplaced
from gridtui.actors.book import Book, next_number, replay
from gridtui.actors.upkeep import LEASE_SECONDS, Action, Lease, decide, waiting_reason
from gridtui.model.reservations import Bundle, NodeView, Reservation, format_amount
from gridtui.model.wire.control import (
    Claim,
    Ended,
    Granted,
    Held,
    Metrics,
    Release,
    Renew,
    Reserve,
    Withdraw,
)

Table = dict[str, dict[str, Any]]


def rebuild(book: Book) -> tuple[dict[str, cluster.RayNode], dict[str, int]]:
    """Fill an empty book from Ray's tables and KV (book.replay decides); Ray's node
    table and what was restored, adopted and dropped."""
    nodes = cluster.ray_nodes()
    by_id = {n.node_id: n.name for n in nodes.values()}
    counts, puts, deletes = replay(
        book, store.load_all(), cluster.gridtui_groups(), by_id, store.load_history(), time.time()
    )
    for record in puts:
        store.put(record)
    for rid in deletes:
        store.delete(rid)
    return nodes, counts


class Desk:
    """Serializes every change under one lock, and never waits on Ray while holding it. A
    request checks what is free (Ray's figures less what pending requests will take),
    records its group as pending, creates it and returns; its client waits for Ray,
    renewing a lease, and claims it once placed; upkeep withdraws a request whose lease
    lapsed. Two clients can never both take the last free CPU of a node: the check and
    the record happen under the lock. `busy` and `draining` are auto-offload's word."""

    def __init__(
        self,
        history_limit: int,
        busy: Callable[[], dict[str, str]],
        draining: Callable[[Mapping[str, cluster.RayNode]], set[str]],
    ) -> None:
        self.mutate = threading.RLock()
        self.book = Book(history_limit)
        self._busy = busy
        self._draining = draining
        self._warned: set[str] = set()
        self._nodes, self.rebuilt = rebuild(self.book)
        self._next_id = next_number(self.book.ids())

    # -- reading --------------------------------------------------------------------------

    def views(self, metrics: Metrics | None) -> list[NodeView]:
        """Every node as the scheduler sees it: Ray's free figures less what pending
        requests will take, auto-offload's word on each, the draining ones marked."""
        pending, table = self._pending()
        nodes = cluster.ray_nodes()
        views = cluster.node_views(nodes, ray_private.available_per_node(), metrics)
        held = unplaced(pending, _created(table))
        return adjusted(views, held, self._busy(), self._draining(nodes))

    def _pending(self) -> tuple[list[Reservation], Table]:
        """The pending records and, only while there are some, Ray's group table."""
        pending = self.book.pending()
        return pending, (cluster.group_table() if pending else {})

    # -- changing -------------------------------------------------------------------------

    def reserve(self, ask: Reserve) -> Granted:
        """Record and create a pending group; answers at once (a refusal leaves nothing
        behind). Its client then waits for Ray (`renew`) and claims it (`claim`)."""
        try:
            checked = parse_spec(dataclasses.asdict(ask))
        except ValueError as exc:
            raise Refusal("malformed", str(exc)) from None
        busy = self._busy()  # outside the lock: the engine may be mid-pass
        with self.mutate:
            pending, table = self._pending()
            available = ray_private.available_per_node()
            nodes = self._node_table(available, checked.node)
            views = cluster.node_views(nodes, available, ask.metrics)
            held = unplaced(pending, _created(table))
            bundles, reason = pick(checked, adjusted(views, held, busy, self._draining(nodes)))
            now = time.time()
            record = Reservation(
                id=self._take_id(checked.kind),
                kind=checked.kind,
                type=checked.type,
                amount=checked.amount,
                bundles=tuple(Bundle(n, a, nodes[n].node_id) for n, a in bundles),
                state="pending",
                created=now,
                expires=None if checked.ttl is None else now + checked.ttl,
                owner=checked.owner,
                strategy=checked.strategy,
                reason=reason,
            )
            # Kept before the group exists (the one KV write of a request): a successor
            # that finds the group knows it unclaimed and gives its client a lease.
            store.put(record)
            try:
                group = cluster.create_group(record, nodes)
            except Exception as exc:
                store.delete(record.id)
                first = str(exc).splitlines()[0] if str(exc) else repr(exc)
                raise Refusal("refused", f"Ray refused the group: {first}") from None
            record = record.replace(pg_id=group.id.hex())
            if table:  # others wait: say at once whether this one waits behind them
                fresh = {"placement_group_id": record.pg_id}
                where = {r.pg_id: r.node for r in pending}
                why = waiting_reason(record, fresh, table.values(), where)
                record = record.replace(waiting=why)
            lease = Lease(now + LEASE_SECONDS, now + checked.timeout + LEASE_SECONDS)
            self.book.put(record, lease)
        return Granted(record.to_record(), LEASE_SECONDS)

    def _node_table(
        self, available: Mapping[str, object], wanted: str = ""
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

    def renew(self, ask: Renew) -> Held:
        """A waiting client's lease, renewed: the record as held now (with why it still
        waits), refused once it was withdrawn. Never waits on the lock."""
        record = self.book.renew(ask.rid, time.time())
        if record is None:
            raise Refusal("unknown", self.book.gone(ask.rid))
        return Held(record.to_record())

    def claim(self, ask: Claim) -> Held:
        """Its client saw Ray place it and takes it: active from now on (no lease), still
        pending while Ray has not placed it, refused once withdrawn."""
        rid = ask.rid
        with self.mutate:
            record = self.book.get(rid)
            if record is None:
                raise Refusal("unknown", self.book.gone(rid))
            if not self.book.leased(rid):
                return Held(record.to_record())
            if record.state == "pending":
                entry = cluster.group_entry(record.pg_id)
                if entry is None or entry.get("state") != "CREATED":
                    return Held(record.to_record())
                record = self._activated(record)
            store.put(record)  # active in the KV: claimed, so a successor gives no lease
            self.book.claim(rid)
        return Held(record.to_record())

    def withdraw(self, ask: Withdraw) -> Ended:
        """Remove a request its client will not use (interrupted, or out of time), in
        whatever state."""
        with self.mutate:
            record = self.book.get(ask.rid)
            if record is None:
                return Ended(None, True)
            ended = self._end(record, f"withdrawn: {ask.why}")
        self.book.event(
            "withdrawn", ended, f"{ask.rid}: {_what(ended)} on {ended.node} {ended.note}"
        )
        return Ended(ended.to_record(), False)

    def release(self, ask: Release) -> Ended:
        """Give it back; an unknown id is refused. The wait for Ray to show its resources
        free again happens outside the lock."""
        rid = ask.rid
        with self.mutate:
            record = self.book.get(rid)
            if record is None:
                past = self.book.past(rid)
                if past is not None:
                    return Ended(past.to_record(), True)
                raise Refusal("unknown", self.book.unknown(rid))
            placed = record.state in ("active", "expiring")
            before = ray_private.available_per_node() if placed else None
            note = f"released by {ask.who}" if ask.who else "released"
            ended = self._end(record, note)
        if before is not None:
            cluster.resources_back(record, before)
        self.book.event("released", ended, f"{rid}: {_what(ended)} on {ended.node} {note}")
        return Ended(ended.to_record(), False)

    def tick(self) -> int:
        """One pass of upkeep now; the count of reservations it changed."""
        changed = 0
        with self.mutate:
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
                changed += self._apply(record, action, entry is not None)
            if table is not None:
                self._explain(table)
        return changed

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

    def _apply(self, record: Reservation, action: Action, listed: bool) -> int:
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
        ended = self._end(record, action.note, remove=listed)
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


def _created(table: Mapping[str, Mapping[str, Any]]) -> set[str]:
    return {g for g, e in table.items() if e.get("state") == "CREATED"}


def _what(record: Reservation) -> str:
    return format_amount(record.type, record.amount)
