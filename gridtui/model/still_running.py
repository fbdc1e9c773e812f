"""What still runs on a fenced node: Ray's fence keeps off CPU work only (Ray#41824)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

OWN_NAMESPACE = "gridtui"
"""gridtui's own cluster-side actors (controller, samplers, memory index and shards)."""
CAP = 20
"""Actors listed per node; the rest are counted (`and N more`)."""
ID_CHARS = 8


def held_cpu(resources: Mapping[str, float]) -> float:
    """The CPU an actor holds while it runs: plain `CPU`, or its placement group's
    (`CPU_group_<id>` and `CPU_group_<i>_<id>` name the same CPU: the largest counts)."""
    found = [float(v) for k, v in resources.items() if k == "CPU" or k.startswith("CPU_group_")]
    return max(found, default=0.0)


@dataclass(frozen=True)
class StillActor:
    """One live actor on the node."""

    cls: str
    actor_id: str
    cpu: float
    pid: int | None = None
    name: str = ""

    def describe(self) -> str:
        named = f" {self.name!r}" if self.name else ""
        cpu = "no CPU" if self.cpu <= 0 else f"{self.cpu:g} CPU"
        pid = f", pid {self.pid}" if self.pid else ""
        return f"actor {self.cls}{named} {self.actor_id[:ID_CHARS]} ({cpu}{pid})"

    def to_record(self) -> dict[str, Any]:
        return {
            "class": self.cls,
            "actor_id": self.actor_id,
            "cpu": self.cpu,
            "pid": self.pid,
            "name": self.name,
        }

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> StillActor:
        pid = data.get("pid")
        return cls(
            str(data.get("class", "?")),
            str(data.get("actor_id", "")),
            float(data.get("cpu", 0.0)),
            int(pid) if pid else None,
            str(data.get("name", "")),
        )


@dataclass(frozen=True)
class StillRunning:
    """A fenced node's live actors (gridtui's own left out and named apart)."""

    actors: tuple[StillActor, ...] = ()
    more: int = 0
    """Actors past the cap, not listed."""
    own: tuple[str, ...] = ()
    """Class names of gridtui's own actors there (not the user's work)."""
    error: str = ""
    """Why Ray's actor table could not be read (then nothing is known)."""

    def lines(self) -> list[str]:
        """One line per actor, then `and N more`; `nothing else runs there` when empty."""
        if self.error:
            return [f"unknown: Ray's actor table could not be read: {self.error}"]
        out = [a.describe() for a in self.actors]
        if self.more:
            out.append(f"and {self.more} more")
        if not out:
            out.append("nothing else runs there")
        return out

    def own_note(self) -> str:
        if not self.own:
            return ""
        counts: dict[str, int] = {}
        for name in self.own:
            counts[name] = counts.get(name, 0) + 1
        what = ", ".join(f"{n} x{c}" if c > 1 else n for n, c in sorted(counts.items()))
        return f"gridtui's own, not listed: {what}"

    def to_record(self) -> dict[str, Any]:
        return {
            "actors": [a.to_record() for a in self.actors],
            "more": self.more,
            "own": list(self.own),
            **({"error": self.error} if self.error else {}),
        }

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> StillRunning:
        return cls(
            tuple(StillActor.from_record(a) for a in data.get("actors") or ()),
            int(data.get("more") or 0),
            tuple(str(n) for n in data.get("own") or ()),
            str(data.get("error") or ""),
        )


def short_class(name: str) -> str:
    """`FencedProbe` of `f.<locals>.FencedProbe` (Ray keeps a class's qualified name)."""
    return name.rpartition(".")[2] or name or "?"


def collect(actors: Iterable[Mapping[str, Any]], node_id: str, cap: int = CAP) -> StillRunning:
    """The actors Ray's table puts on `node_id` (entries as ray_private.alive_actors gives
    them): those that hold no CPU first (what the fence cannot keep off), then by class."""
    mine, own = [], []
    for a in actors:
        if a.get("node_id") != node_id:
            continue
        if a.get("namespace") == OWN_NAMESPACE:
            own.append(short_class(str(a.get("class", ""))))
            continue
        pid = int(a.get("pid") or 0)
        mine.append(
            StillActor(
                short_class(str(a.get("class", ""))),
                str(a.get("actor_id", "")),
                held_cpu(a.get("resources") or {}),
                pid or None,
                str(a.get("name", "")),
            )
        )
    mine.sort(key=lambda x: (x.cpu > 0, x.cls, x.actor_id))
    return StillRunning(tuple(mine[:cap]), max(0, len(mine) - cap), tuple(sorted(own)))
