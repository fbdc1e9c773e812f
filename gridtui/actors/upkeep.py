"""Pure decisions on one reservation: what the loop does to it, how a lone group is adopted."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from gridtui.model.reservations import EXPIRING_WINDOW, Bundle, Reservation

# A group still pending this long after its request (its waiter gone with an old
# controller) is withdrawn.
PENDING_GRACE = 120.0


@dataclass(frozen=True)
class Action:
    """keep | activate | warn (entering `expiring`) | expire | lose | vanish | withdraw."""

    kind: str
    note: str = ""


def decide(
    record: Reservation,
    group_state: str | None,
    dead_nodes: Collection[str],
    now: float,
    warned: bool = False,
) -> Action:
    """`group_state` is Ray's state of its placement group (None: no group in Ray's
    table); `dead_nodes` the names of its bundles' nodes Ray calls dead."""
    if record.state == "lost":
        if record.expires is not None and now >= record.expires:
            return Action("expire", "expired (lost earlier)")
        return Action("keep")
    if group_state is None:
        return Action("vanish", "its placement group was removed outside gridtui")
    if dead_nodes:
        return Action("lose", f"{', '.join(sorted(dead_nodes))} died")
    if group_state == "RESCHEDULING":
        return Action("lose", "Ray is rescheduling it: a node of it died")
    if record.expires is not None and now >= record.expires:
        return Action("expire", "expired")
    if record.state == "pending":
        if group_state == "CREATED":
            return Action("activate")
        if now - record.created > PENDING_GRACE:
            return Action("withdraw", f"not placed within {PENDING_GRACE:.0f}s")
        return Action("keep")
    if record.expires is not None and record.expires - now <= EXPIRING_WINDOW and not warned:
        return Action("warn", "expires within a minute")
    return Action("keep")


def bundle_nodes(entry: Mapping[str, Any]) -> dict[int, str]:
    """{bundle index: node id hex} for a table entry (unplaced bundles left out)."""
    found = entry.get("bundles_to_node_id") or {}
    return {int(k): str(v) for k, v in found.items() if v}


def adopt(
    rid: str, entry: Mapping[str, Any], by_id: Mapping[str, str], state: str, now: float
) -> Reservation:
    """A gridtui group with no record (its KV entry lost): rebuilt from the group alone."""
    bundles_spec = entry.get("bundles") or {}
    placed = bundle_nodes(entry)
    resource_type = {"CPU": "cpu", "GPU": "gpu", "memory": "memory"}
    rtype, bundles = "cpu", []
    for index, spec in sorted((int(k), v) for k, v in bundles_spec.items()):
        key = next((k for k in spec if k in resource_type), "CPU")
        rtype = resource_type[key]
        node_id = placed.get(index, "")
        bundles.append(Bundle(by_id.get(node_id, node_id[:8]), float(spec[key]), node_id))
    return Reservation(
        id=rid,
        kind=str(entry.get("kind", "boost")),
        type=rtype,
        amount=sum(b.amount for b in bundles),
        bundles=tuple(bundles),
        state=state,
        created=now,
        owner="unknown",
        reason="adopted from Ray's placement group table (no gridtui record)",
        pg_id=str(entry.get("placement_group_id", "")),
    )
