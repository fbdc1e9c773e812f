"""What the offload engine keeps in Ray's KV: its policy, sample scopes, events, drains."""

from __future__ import annotations

import json
from typing import Any

from gridtui.actors import ray_private
from gridtui.model.offload import OffloadEvent, OffloadPolicy

POLICY_KEY = "offload:policy"
SCOPES_KEY = "offload:scopes"
EVENTS_KEY = "offload:events"
DRAINED_KEY = "offload:drained"


def load_json(key: str, default: Any) -> Any:
    raw = ray_private.kv_get(key)
    if raw is None:
        return default
    try:
        return json.loads(raw)
    except ValueError:
        return default


def load_policy() -> OffloadPolicy:
    try:
        return OffloadPolicy.from_record(load_json(POLICY_KEY, {}))
    except (ValueError, TypeError, KeyError, AttributeError):
        return OffloadPolicy()


def load_events() -> list[OffloadEvent]:
    out = []
    for data in load_json(EVENTS_KEY, []):
        try:
            out.append(OffloadEvent.from_record(data))
        except (ValueError, TypeError, KeyError):
            continue
    return out
