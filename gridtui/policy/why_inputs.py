"""What `why` reads, built from Ray's answers: each node's room and holders, and the ask."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gridtui.model.work import GroupRow, JobRow, WorkItem, resources_of
from gridtui.policy.why import Ask, Holder, NodeRoom

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
    """{node name: the node script's ray_view entry (total, available)} as NodeRooms."""
    return tuple(
        NodeRoom(
            name=name,
            ip=str(e.get("address") or ""),
            alive=bool(e.get("alive")),
            total=resources_of(e.get("total")),
            free=resources_of(e.get("available")) if e.get("alive") else {},
            holders=holders(name, groups, items, skip_group),
        )
        for name, e in entries.items()
    )


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
