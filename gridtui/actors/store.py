"""What placement groups cannot hold (TTL, owner, history), kept in Ray's KV on the head."""

from __future__ import annotations

import json
from collections.abc import Iterable

from gridtui.actors import ray_private
from gridtui.model.reservations import Reservation

RECORD_PREFIX = "reservation:"
HISTORY_KEY = "history"


def put(record: Reservation) -> None:
    ray_private.kv_put(RECORD_PREFIX + record.id, json.dumps(record.to_record()).encode())


def delete(rid: str) -> None:
    ray_private.kv_del(RECORD_PREFIX + rid)


def load_all() -> dict[str, Reservation]:
    """Every stored record; one that cannot be read is skipped (Ray's table still has it)."""
    out: dict[str, Reservation] = {}
    for key in ray_private.kv_keys(RECORD_PREFIX):
        raw = ray_private.kv_get(key)
        if raw is None:
            continue
        try:
            record = Reservation.from_record(json.loads(raw))
        except (ValueError, TypeError, KeyError):
            continue
        out[record.id] = record
    return out


def save_history(records: Iterable[Reservation]) -> None:
    data = [r.to_record() for r in records]
    ray_private.kv_put(HISTORY_KEY, json.dumps(data).encode())


def load_history() -> list[Reservation]:
    raw = ray_private.kv_get(HISTORY_KEY)
    if raw is None:
        return []
    try:
        return [Reservation.from_record(d) for d in json.loads(raw)]
    except (ValueError, TypeError, KeyError):
        return []
