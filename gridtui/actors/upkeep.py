"""Pure decisions on one reservation: what the loop does to it, why Ray has not placed it
yet, how a lone group is adopted."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gridtui.model.offload import fenced_node
from gridtui.model.reservations import EXPIRING_WINDOW, Bundle, Reservation

# A waiting client renews its request's lease about every second (as a memory store's
# client does); a request not renewed for this long belongs to a client that is gone
# (Ctrl-C, SIGKILL, a lost network), and its group is withdrawn.
LEASE_SECONDS = 6.0


@dataclass(frozen=True)
class Lease:
    """A request nobody holds yet: its client renews `until` while it waits for Ray, and
    claims it once placed; at `deadline` (its timeout and a lease more) it is given up
    whatever the client says."""

    until: float
    deadline: float

    def renewed(self, now: float, seconds: float = LEASE_SECONDS) -> Lease:
        return dataclasses.replace(self, until=now + seconds)


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
    lease: Lease | None = None,
    draining: Collection[str] = (),
) -> Action:
    """`group_state` is Ray's state of its placement group (None: no group in Ray's
    table); `dead_nodes` the names of its bundles' nodes Ray calls dead; `lease` is set
    while its client has not claimed it; `draining` names the nodes taking nothing new."""
    if record.state == "lost":
        if record.expires is not None and now >= record.expires:
            return Action("expire", "expired (lost earlier)")
        return Action("keep")
    if group_state is None:
        return Action("vanish", "its placement group was removed outside gridtui")
    if lease is not None:
        unclaimed = _unclaimed(record, group_state, dead_nodes, now, lease, draining)
        if unclaimed is not None:
            return unclaimed
    if dead_nodes:
        return Action("lose", f"{', '.join(sorted(dead_nodes))} died")
    if group_state == "RESCHEDULING":
        return Action("lose", "Ray is rescheduling it: a node of it died")
    if record.expires is not None and now >= record.expires:
        return Action("expire", "expired")
    if record.state == "pending":
        return Action("activate") if group_state == "CREATED" else Action("keep")
    if record.expires is not None and record.expires - now <= EXPIRING_WINDOW and not warned:
        return Action("warn", "expires within a minute")
    return Action("keep")


def _unclaimed(
    record: Reservation,
    group_state: str,
    dead_nodes: Collection[str],
    now: float,
    lease: Lease,
    draining: Collection[str],
) -> Action | None:
    """A request its client still waits for: given up the moment that wait ends, or Ray
    cannot place it any more; None leaves it to the rules for every reservation."""
    if now > lease.until:
        return Action(
            "withdraw", "withdrawn: its client stopped renewing (gone, interrupted or cut off)"
        )
    if now > lease.deadline:
        return Action("withdraw", "withdrawn: not placed within its timeout")
    if dead_nodes:
        return Action("withdraw", f"withdrawn: {', '.join(sorted(dead_nodes))} died")
    if group_state == "RESCHEDULING":
        return Action("withdraw", "withdrawn: Ray is rescheduling it (a node of it died)")
    if record.state == "pending":
        off = sorted(set(record.nodes) & set(draining))
        if off:
            return Action("withdraw", f"withdrawn: {', '.join(off)} is draining")
        return Action("activate") if group_state == "CREATED" else Action("keep")
    return None


def waiting_reason(
    record: Reservation,
    entry: Mapping[str, Any],
    table: Iterable[Mapping[str, Any]],
    where: Mapping[str, str],
) -> str:
    """Why Ray has not placed a pending record's group yet, as one line. `entry` is its
    own row of Ray's placement group table, `table` every row, `where` the node(s) each
    of gridtui's groups (by id) is for. Ray's GCS places one group at a time: a group on
    a node whose raylet does not answer holds up every group asked after it."""
    stats = entry.get("stats") or {}
    state = stats.get("scheduling_state")
    node = record.node
    if state == "INFEASIBLE":
        return f"waiting for Ray: no live node matches it ({node} gone or relabelled?)"
    if state == "NO_RESOURCES":
        return f"waiting for Ray: {node} has not enough free (other work holds it)"
    if int(stats.get("scheduling_attempt") or 0) > 0:
        return f"waiting for Ray: {node} has not confirmed it yet (its raylet is slow or stopped)"
    mine = entry.get("placement_group_id")
    for other in table:
        other_stats = other.get("stats") or {}
        if (
            other.get("placement_group_id") == mine
            or other.get("state") not in ("PENDING", "RESCHEDULING")
            or int(other_stats.get("scheduling_attempt") or 0) == 0
        ):
            continue
        pg_id = str(other.get("placement_group_id", ""))
        name = str(other.get("name", ""))
        on = where.get(pg_id) or fenced_node(name)
        if on:
            return f"waiting for Ray: another placement group is pending on {on}"
        return f"waiting for Ray: another placement group ({name or pg_id[:12]}) is pending"
    return "waiting for Ray to place it (it places one group at a time)"


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
