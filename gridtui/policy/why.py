"""Why something waits: per node what is asked, what is free, what holds the rest, and
whether it can ever fit (Ray says nothing of it: ray#27287)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gridtui.model.units import size

NODE_PREFIX = "node:"
_EPS = 1e-9
# Ray's own bookkeeping resources: never what a user asks for, never worth a line.
_HIDDEN = ("bundle_group_", "node:__internal")
_GROUP = "_group_"
"""`CPU_group_<id>`: a group's share of a resource, already counted as the group's."""


def show(resource: str, amount: float) -> str:
    """`4 CPU`, `0.5 GPU`, `512.0MiB memory`, `1 ssd`."""
    if resource in ("memory", "object_store_memory"):
        return f"{size(amount, iec=True)} {resource}"
    return f"{amount:g} {resource}"


def show_all(resources: Mapping[str, float], ips: Mapping[str, str] | None = None) -> str:
    parts = []
    for k, v in sorted(resources.items()):
        if k.startswith(NODE_PREFIX):
            ip = k[len(NODE_PREFIX) :]
            parts.append(f"on {(ips or {}).get(ip, ip)}")
        elif not k.startswith(_HIDDEN) and _GROUP not in k and k != "object_store_memory":
            parts.append(show(k, v))
    return ", ".join(parts) or "nothing"


@dataclass(frozen=True)
class Holder:
    """Something holding part of a node: a boost, share, fence, other group, task, actor
    or job entrypoint."""

    kind: str
    id: str
    resources: Mapping[str, float]

    def describe(self) -> str:
        return f"{self.kind} {self.id[:16]} ({show_all(self.resources)})"


@dataclass(frozen=True)
class NodeRoom:
    """One node as `why` sees it: Ray's totals and what is free now, and its holders."""

    name: str
    ip: str = ""
    alive: bool = True
    total: Mapping[str, float] = field(default_factory=dict)
    free: Mapping[str, float] = field(default_factory=dict)
    holders: tuple[Holder, ...] = ()


@dataclass(frozen=True)
class Ask:
    """What waits: one bundle of resources (a task, a job's entrypoint) or a group's
    bundles with its strategy (PACK, SPREAD, STRICT_PACK, STRICT_SPREAD)."""

    id: str
    kind: str
    state: str
    bundles: tuple[Mapping[str, float], ...]
    strategy: str = ""
    where: str = ""
    """Where it runs or is placed, for what is not pending."""

    @property
    def pending(self) -> bool:
        return self.state.upper().startswith("PENDING") or self.state.upper() in (
            "RESCHEDULING",
            "SUBMITTED_TO_WORKER",
        )


@dataclass(frozen=True)
class NodeVerdict:
    node: str
    asked: Mapping[str, float]
    free: Mapping[str, float]
    holders: tuple[Holder, ...]
    fits_now: bool
    fits_ever: bool
    short: str
    """What is missing there, or `fits`."""

    def to_json(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "asked": dict(self.asked),
            "free": dict(self.free),
            "held_by": [
                {"kind": h.kind, "id": h.id, "resources": dict(h.resources)} for h in self.holders
            ],
            "fits_now": self.fits_now,
            "fits_ever": self.fits_ever,
            "missing": self.short,
        }


@dataclass(frozen=True)
class Why:
    id: str
    kind: str
    state: str
    summary: str
    """One line: the reason, or where it runs."""
    ever: bool
    """Whether it can ever fit on the cluster as it is (nodes alive now)."""
    nodes: tuple[NodeVerdict, ...] = ()
    asked: tuple[Mapping[str, float], ...] = ()

    def lines(self, ips: Mapping[str, str] | None = None) -> list[str]:
        out = [f"{self.kind} {self.id}: {self.state.lower()}: {self.summary}"]
        if self.asked:
            asks = "; ".join(show_all(b, ips) for b in self.asked)
            out.append(f"  asks: {asks}")
        for v in self.nodes:
            out.append(f"  {v.node}: free {show_all(v.free) if v.free else 'nothing'}: {v.short}")
            out += [f"      held by {h.describe()}" for h in v.holders]
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "summary": self.summary,
            "ever": self.ever,
            "asked": [dict(b) for b in self.asked],
            "nodes": [v.to_json() for v in self.nodes],
        }


def _visible(resources: Mapping[str, float]) -> dict[str, float]:
    return {k: v for k, v in resources.items() if v > 0 and not k.startswith(_HIDDEN)}


def _missing(need: Mapping[str, float], have: Mapping[str, float]) -> dict[str, float]:
    return {k: v - have.get(k, 0.0) for k, v in need.items() if have.get(k, 0.0) + _EPS < v}


def _sum(bundles: Sequence[Mapping[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for b in bundles:
        for k, v in b.items():
            out[k] = out.get(k, 0.0) + v
    return out


def _per_node_need(ask: Ask) -> dict[str, float]:
    """What one node must hold at the least for the ask to start there: the whole group
    for STRICT_PACK, else its largest bundle (a task or a job is one bundle)."""
    bundles = [_visible(b) for b in ask.bundles] or [{}]
    if ask.strategy == "STRICT_PACK":
        return _sum(bundles)
    return max(bundles, key=lambda b: sum(b.values()))


def _short(missing: Mapping[str, float], pinned: bool, ips: Mapping[str, str]) -> str:
    if pinned:
        return "not this node (the ask is pinned elsewhere)"
    return "needs " + show_all(missing, ips) + " more"


def explain(ask: Ask, rooms: Sequence[NodeRoom]) -> Why:
    """The verdict for `ask` over the cluster's nodes (pure: the service gathers rooms)."""
    ips = {r.ip: r.name for r in rooms if r.ip}
    asked = tuple(_visible(b) for b in ask.bundles)
    if not ask.pending:
        where = f" on {ask.where}" if ask.where else ""
        return Why(
            ask.id, ask.kind, ask.state, f"not waiting: {ask.state.lower()}{where}", True, (), asked
        )
    need = _per_node_need(ask)
    verdicts = []
    for room in rooms:
        total, free = _visible(room.total), _visible(room.free)
        pinned = any(k.startswith(NODE_PREFIX) and total.get(k, 0.0) <= 0 for k in need)
        ever = room.alive and not _missing(need, total)
        now = ever and not _missing(need, free)
        if not room.alive:
            short = "dead"
        elif now:
            short = "fits now"
        else:
            short = _short(_missing(need, total if not ever else free), pinned, ips)
            if ever:
                short = short.replace("needs", "fits once").replace(" more", " more is free")
        shown_free = {k: v for k, v in free.items() if not k.startswith(NODE_PREFIX)}
        verdicts.append(NodeVerdict(room.name, need, shown_free, room.holders, now, ever, short))
    ever_any = (
        _fits_group(ask, rooms) if len(ask.bundles) > 1 else any(v.fits_ever for v in verdicts)
    )
    summary = _summary(ask, need, rooms, verdicts, ever_any, ips)
    return Why(ask.id, ask.kind, ask.state, summary, ever_any, tuple(verdicts), asked)


def _fits_group(ask: Ask, rooms: Sequence[NodeRoom]) -> bool:
    """Whether a group's bundles fit the alive nodes' totals, by its strategy: first-fit
    largest bundle first (STRICT_SPREAD: one bundle per node at most)."""
    if ask.strategy == "STRICT_PACK":
        need = _per_node_need(ask)
        return any(r.alive and not _missing(need, _visible(r.total)) for r in rooms)
    left = [dict(_visible(r.total)) for r in rooms if r.alive]
    used = [False] * len(left)
    for bundle in sorted((_visible(b) for b in ask.bundles), key=lambda b: -sum(b.values())):
        for i, room in enumerate(left):
            if (ask.strategy == "STRICT_SPREAD" and used[i]) or _missing(bundle, room):
                continue
            for k, v in bundle.items():
                room[k] = room.get(k, 0.0) - v
            used[i] = True
            break
        else:
            return False
    return True


def _summary(
    ask: Ask,
    need: Mapping[str, float],
    rooms: Sequence[NodeRoom],
    verdicts: Sequence[NodeVerdict],
    ever: bool,
    ips: Mapping[str, str],
) -> str:
    alive = [r for r in rooms if r.alive]
    if not alive:
        return "no node is alive"
    if not ever:
        for key, amount in sorted(need.items()):
            if key.startswith(NODE_PREFIX):
                ip = key[len(NODE_PREFIX) :]
                if not any(_visible(r.total).get(key, 0.0) > 0 for r in alive):
                    return f"it is pinned to {ips.get(ip, ip)}, which is not alive in Ray"
                continue
            largest = max(_visible(r.total).get(key, 0.0) for r in alive)
            if largest + _EPS < amount:
                most = f"{largest:g}" if key in ("CPU", "GPU") else show(key, largest)
                return f"no node has {show(key, amount)}; the largest has {most}"
        if ask.strategy == "STRICT_SPREAD":
            return f"its {len(ask.bundles)} bundles need as many nodes; {len(alive)} can take one"
        return "no node (or set of nodes) can ever hold it: " + show_all(need, ips)
    if any(v.fits_now for v in verdicts):
        fits = ", ".join(v.node for v in verdicts if v.fits_now)
        return f"it fits now on {fits}: Ray has not placed it yet (or a group ahead holds it)"
    best = min(
        (v for v in verdicts if v.fits_ever),
        key=lambda v: sum(_missing(need, v.free).values()),
        default=None,
    )
    if best is None:  # a group that fits only split over several nodes
        return "it fits only split over several nodes, none of which has room now"
    holders = ", ".join(h.describe() for h in best.holders[:3]) or "nothing gridtui can see"
    short = show_all(_missing(need, best.free))
    return f"it fits on {best.node} once {short} more is free there (held by {holders})"
