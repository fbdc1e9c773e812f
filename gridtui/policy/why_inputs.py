"""What `why` reads, built from Ray's answers: each node's room and holders, and the ask."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gridtui.model.work import GroupRow, JobRow, WorkItem, resources_of
from gridtui.policy.why import Ask, Holder, NodeRoom, explain

_PLAIN = ("CPU", "GPU", "memory")


def _holder_kind(group: GroupRow) -> str:
    return group.owner if group.gridtui else "group"


def holders(
    node: str, groups: Iterable[GroupRow], items: Iterable[WorkItem], skip_group: str = ""
) -> tuple[Holder, ...]:
    """What holds part of `node`: created groups' bundles there (boosts, shares, fences,
    other groups), then work outside any group holding plain CPU or GPU."""
    out: list[Holder] = []
    for g in groups:
        if g.id == skip_group or g.state not in ("CREATED", "RESCHEDULING"):
            continue
        held: dict[str, float] = {}
        for b in g.bundles:
            if b.node == node:
                for k, v in b.resources.items():
                    if k in _PLAIN:
                        held[k] = held.get(k, 0.0) + v
        if held:
            out.append(Holder(_holder_kind(g), g.owner_id or g.name or g.id, held))
    for i in items:
        if i.node != node or i.group or (i.cpu <= 0 and i.gpu <= 0):
            continue
        res = {k: v for k, v in (("CPU", i.cpu), ("GPU", i.gpu)) if v > 0}
        out.append(Holder(i.kind, i.name if i.kind == "job" else f"{i.name} {i.id[:8]}", res))
    return tuple(out)


def rooms(
    entries: Mapping[str, Mapping[str, Any]],
    groups: Sequence[GroupRow],
    items: Sequence[WorkItem],
    skip_group: str = "",
) -> tuple[NodeRoom, ...]:
    """{node name: an entry with total and, from a driver, available} as NodeRooms.
    Without `available` (the dashboard alone), what is free is the total less what its
    holders hold: close to Ray's figure, which the `why` command reads instead."""
    out = []
    for name, e in entries.items():
        total = resources_of(e.get("total"))
        held = holders(name, groups, items, skip_group)
        if not e.get("alive"):
            free: dict[str, float] = {}
        elif "available" in e:
            free = resources_of(e.get("available"))
        else:
            free = dict(total)
            for h in held:
                for k, v in h.resources.items():
                    free[k] = max(0.0, free.get(k, 0.0) - v)
        out.append(
            NodeRoom(name, str(e.get("address") or ""), bool(e.get("alive")), total, free, held)
        )
    return tuple(out)


def job_ask(job: JobRow) -> Ask:
    return Ask(job.id, "job", job.status, (dict(job.resources),), where=job.node)


def group_ask(group: GroupRow, kind: str = "placement group", shown_id: str = "") -> Ask:
    return Ask(
        shown_id or group.id,
        kind,
        group.state,
        tuple(dict(b.resources) for b in group.bundles),
        strategy=group.strategy,
        where=", ".join(group.nodes),
    )


def task_ask(task: Mapping[str, Any], where: str = "") -> Ask:
    return Ask(
        str(task.get("task_id") or ""),
        "task",
        str(task.get("state") or ""),
        (resources_of(task.get("required_resources")),),
        where=where,
    )


def find_group(groups: Iterable[GroupRow], wanted: str) -> tuple[GroupRow, str] | None:
    """The group `wanted` names: its id, or a boost's or share's id (its name's suffix)."""
    for g in groups:
        if g.id == wanted:
            return g, "placement group"
    for g in groups:
        if g.gridtui and g.owner_id == wanted and g.owner in ("boost", "share"):
            return g, g.owner
    return None


def pending_reasons(
    jobs: Iterable[JobRow], groups: Iterable[GroupRow], nodes: Sequence[NodeRoom]
) -> dict[str, str]:
    """{id: why it waits, one line} for pending jobs and groups: what a pending row shows."""
    asks = [job_ask(j) for j in jobs if j.pending]
    asks += [group_ask(g) for g in groups if g.state == "PENDING"]
    out = {}
    for ask in asks:
        skip = ask.id if ask.kind == "placement group" else ""
        rooms_here = [
            NodeRoom(
                r.name, r.ip, r.alive, r.total, r.free, tuple(h for h in r.holders if h.id != skip)
            )
            for r in nodes
        ]
        out[ask.id] = explain(ask, rooms_here).summary
    return out
