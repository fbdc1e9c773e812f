"""The controller's book: current reservations, the leases of unclaimed requests, history
and events, behind one short lock that is never held across a Ray call; and how a new
controller fills it from what Ray's tables hold (no Ray here: the controller reads them)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

from gridtui.actors.upkeep import LEASE_SECONDS, Lease, adopt
from gridtui.model.reservations import Reservation, ReservationEvent
from gridtui.policy.amounts import MAX_TIMEOUT

EVENT_LIMIT = 500


class Book:
    """Every method is a few dict operations under `_lock`: a status, a renewal or an
    event read never waits for anything but another such method."""

    def __init__(self, history_limit: int = 200) -> None:
        self._lock = threading.Lock()
        self.records: dict[str, Reservation] = {}
        self.leases: dict[str, Lease] = {}
        self.history: deque[Reservation] = deque(maxlen=history_limit)
        self.events: deque[ReservationEvent] = deque(maxlen=EVENT_LIMIT)
        self.seq = 0

    def get(self, rid: str) -> Reservation | None:
        with self._lock:
            return self.records.get(rid)

    def current(self) -> tuple[list[Reservation], dict[str, Lease]]:
        """Every current record and the leases of the unclaimed ones (copies)."""
        with self._lock:
            return list(self.records.values()), dict(self.leases)

    def pending(self) -> list[Reservation]:
        with self._lock:
            return [r for r in self.records.values() if r.state == "pending"]

    def leased(self, rid: str) -> bool:
        with self._lock:
            return rid in self.leases

    def put(self, record: Reservation, lease: Lease | None = None) -> None:
        with self._lock:
            self.records[record.id] = record
            if lease is not None:
                self.leases[record.id] = lease

    def explain(self, record: Reservation, why: str) -> None:
        """Set why a pending one waits, unless it changed meanwhile."""
        with self._lock:
            if self.records.get(record.id) is record and why != record.waiting:
                self.records[record.id] = record.replace(waiting=why)

    def renew(self, rid: str, now: float) -> Reservation | None:
        """The record, its lease (if unclaimed) renewed; None once it is gone."""
        with self._lock:
            record = self.records.get(rid)
            lease = self.leases.get(rid)
            if record is not None and lease is not None:
                self.leases[rid] = lease.renewed(now)
            return record

    def claim(self, rid: str) -> None:
        with self._lock:
            self.leases.pop(rid, None)

    def end(self, ended: Reservation) -> list[Reservation]:
        """Move it to the history; the history to keep."""
        with self._lock:
            self.records.pop(ended.id, None)
            self.leases.pop(ended.id, None)
            self.history.append(ended)
            return list(self.history)

    def past(self, rid: str) -> Reservation | None:
        with self._lock:
            return next((r for r in reversed(self.history) if r.id == rid), None)

    def gone(self, rid: str) -> str:
        """Why a request is no longer held, as its client is told."""
        past = self.past(rid)
        if past is None:
            return f"no reservation {rid!r} (the controller has no record of it)"
        return f"{rid} is gone: {past.note or past.state}"

    def unknown(self, rid: str) -> str:
        with self._lock:
            current = ", ".join(sorted(self.records)) or "none"
        return f"no reservation {rid!r} (current: {current})"

    def snapshot(self, history: bool) -> tuple[list[Reservation], list[Reservation]]:
        with self._lock:
            return list(self.records.values()), list(self.history) if history else []

    def event(
        self, kind: str, record: Reservation, message: str, severity: str = "information"
    ) -> None:
        with self._lock:
            self.seq += 1
            self.events.append(
                ReservationEvent(
                    self.seq, time.time(), kind, record.id, record.node, message, severity
                )
            )

    def events_after(self, seq: int) -> tuple[int, list[ReservationEvent]]:
        with self._lock:
            return self.seq, [e for e in self.events if e.seq > seq]

    def ids(self) -> list[str]:
        """Every id in use or in the history (a successor numbers above them)."""
        with self._lock:
            return [*self.records, *(r.id for r in self.history)]


def next_number(ids: list[str]) -> int:
    """Ids are never reused: a successor numbers above every id it finds."""
    numbers = [int(r[1:]) for r in ids if r[1:].isdigit()]
    return max([1, *(n + 1 for n in numbers)])


def replay(
    book: Book,
    stored: dict[str, Reservation],
    groups: Mapping[str, Mapping[str, Any]],
    by_id: Mapping[str, str],
    history: list[Reservation],
    now: float,
) -> tuple[dict[str, int], list[Reservation], list[str]]:
    """Fill an empty book from Ray's gridtui groups (`groups`, by reservation id) and the
    KV's records (`stored`, consumed): (what was restored, adopted and dropped; records to
    write back; ids to delete). A record the KV still has as pending was never claimed:
    its client may still wait (it renews with this controller), so it gets a fresh lease."""
    restored = adopted = dropped = 0
    puts: list[Reservation] = []
    deletes: list[str] = []
    for rid, entry in groups.items():
        record = stored.pop(rid, None)
        state = "active" if entry.get("state") == "CREATED" else "pending"
        lease = None
        if record is None:
            record = adopt(rid, entry, by_id, state, now)
            puts.append(record)
            adopted += 1
        else:
            if record.state == "pending":
                lease = Lease(now + LEASE_SECONDS, now + MAX_TIMEOUT)
            record = record.replace(state=state, pg_id=str(entry["placement_group_id"]))
            restored += 1
        book.put(record, lease)
    book.history.extend(history)
    for rid, record in stored.items():
        if record.state == "lost":
            book.put(record)
            restored += 1
        else:
            book.history.append(
                record.replace(state="released", note="its placement group is gone")
            )
            deletes.append(rid)
            dropped += 1
    counts = {"restored": restored, "adopted": adopted, "dropped": dropped}
    return counts, puts, deletes
