"""What the console shows of auto-offload: the running policy, fences, live figures, events."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gridtui.model.feed import NOT_YET, FeedKey
from gridtui.model.offload import OffloadEvent, OffloadPolicy
from gridtui.model.still_running import StillRunning

EVENTS_KEPT = 200
"""Events a console keeps (the engine keeps 500 on the head)."""


@dataclass(frozen=True)
class OffloadSnapshot:
    """One read of the engine, published to every pane that shows it."""

    time: float
    policy: OffloadPolicy | None = None
    """None until the engine answered once."""
    stored: bool = False
    """The engine holds a policy of its own (else the cluster file's is the one to start from)."""
    fenced: tuple[str, ...] = ()
    live: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    """{node: {cpu, memory, gpu?, t}}: the engine's newest reading of each watched node."""
    still_running: Mapping[str, StillRunning] = field(default_factory=dict)
    """{fenced node: what still runs there} (Ray#41824); a node missing from it was not
    reported (a controller older than the report, or a node Ray no longer lists)."""
    events: tuple[OffloadEvent, ...] = ()
    """Newest first."""
    connected: bool = False
    message: str = ""
    """Why not connected, or the last read's failure."""

    @classmethod
    def from_status(
        cls, now: float, status: Mapping[str, Any], events: tuple[OffloadEvent, ...]
    ) -> OffloadSnapshot:
        live = {
            str(n): {str(k): float(v) for k, v in values.items() if isinstance(v, int | float)}
            for n, values in (status.get("live") or {}).items()
        }
        still = {
            str(n): StillRunning.from_record(what)
            for n, what in (status.get("still_running") or {}).items()
        }
        return cls(
            time=now,
            policy=OffloadPolicy.from_record(status),
            stored=bool(status.get("stored")),
            fenced=tuple(str(n) for n in status.get("fenced", ())),
            live=live,
            still_running=still,
            events=events,
            connected=True,
        )


def merge_events(
    kept: tuple[OffloadEvent, ...], new: list[OffloadEvent]
) -> tuple[OffloadEvent, ...]:
    """`kept` (newest first) with `new` added, each seq once, bounded."""
    seen = {e.seq for e in kept}
    fresh = [e for e in new if e.seq not in seen]
    merged = sorted([*fresh, *kept], key=lambda e: e.seq, reverse=True)
    return tuple(merged[:EVENTS_KEPT])


OFFLOAD: FeedKey[OffloadSnapshot] = FeedKey(
    "offload", lambda: OffloadSnapshot(time.time(), message=NOT_YET)
)
"""The offload engine's policy, fences and events."""
