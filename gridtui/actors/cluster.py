"""Ray's node and placement-group tables, as the controller reads and changes them."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import ray
from ray.util.placement_group import (
    PlacementGroup,
    placement_group,
    placement_group_table,
    remove_placement_group,
)

from gridtui.actors import ray_private
from gridtui.model.reservations import (
    NODE_LABEL,
    NODE_STATES,
    RAY_RESOURCE,
    NodeView,
    Reservation,
    parse_pg_name,
)

HEAD_RESOURCE = "node:__internal_head__"
# A bundle on a node without gridtui's label is pinned by the node's own resource instead.
PIN_AMOUNT = 0.001
# Seconds a release waits for Ray to show the resources free again.
RETURN_WAIT = 2.0


@dataclass(frozen=True)
class RayNode:
    """One entry of Ray's node table, named the way the console names it."""

    name: str
    node_id: str
    address: str
    alive: bool
    head: bool
    labelled: bool
    total: Mapping[str, float] = field(default_factory=dict)
    raylet_socket: str = ""
    """Its raylet's socket path: under the node's own Ray temp dir (offload's sampler)."""

    def dead(self) -> RayNode:
        return dataclasses.replace(self, alive=False)


def ray_nodes() -> dict[str, RayNode]:
    """{name: RayNode} by the gridtui label, else the address; alive entries win (a
    restarted node leaves its dead entry beside the new one)."""
    out: dict[str, RayNode] = {}
    for entry in ray.nodes():
        labels = entry.get("Labels") or {}
        address = str(entry.get("NodeManagerAddress", ""))
        total = {str(k): float(v) for k, v in (entry.get("Resources") or {}).items()}
        node = RayNode(
            name=str(labels.get(NODE_LABEL) or address),
            node_id=str(entry.get("NodeID", "")),
            address=address,
            alive=bool(entry.get("Alive")),
            head=HEAD_RESOURCE in total,
            labelled=NODE_LABEL in labels,
            total=total,
            raylet_socket=str(entry.get("RayletSocketName", "")),
        )
        old = out.get(node.name)
        if old is None or (node.alive and not old.alive):
            out[node.name] = node
    return out


def node_views(
    nodes: Mapping[str, RayNode],
    available: Mapping[str, Mapping[str, float]],
    metrics: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[NodeView]:
    """NodeViews from Ray's tables and, when a console sends them, live figures:
    `metrics` is {name: {"state": UP|STALE|DOWN, "cpu": %, "mem": %, "gpu": % or None}}."""
    views = []
    for name, node in sorted(nodes.items()):
        free = available.get(node.node_id, {}) if node.alive else {}
        live = (metrics or {}).get(name) or {}
        state = str(live.get("state", "UP")) if node.alive else "DOWN"
        if state not in NODE_STATES:
            state = "STALE"
        views.append(
            NodeView(
                name=name,
                node_id=node.node_id,
                role="head" if node.head else "worker",
                state=state,
                cpu_total=node.total.get("CPU", 0.0),
                cpu_free=free.get("CPU", 0.0),
                gpu_total=node.total.get("GPU", 0.0),
                gpu_free=free.get("GPU", 0.0),
                mem_total=node.total.get("memory", 0.0),
                mem_free=free.get("memory", 0.0),
                cpu_util=_percent(live.get("cpu")),
                mem_util=_percent(live.get("mem")),
                gpu_util=_percent(live.get("gpu")),
            )
        )
    return views


def _percent(value: Any) -> float | None:
    return None if value is None else float(value)


def create_group(record: Reservation, nodes: Mapping[str, RayNode]) -> PlacementGroup:
    """A named, detached group: one bundle per node, each pinned by the node's label
    (or its own `node:<ip>` resource when it has no gridtui label)."""
    resource = RAY_RESOURCE[record.type]
    bundles: list[dict[str, float]] = []
    selectors: list[dict[str, str]] = []
    for b in record.bundles:
        node = nodes[b.node]
        bundle = {resource: b.amount}
        if node.labelled:
            selectors.append({NODE_LABEL: node.name})
        else:
            bundle[f"node:{node.address}"] = PIN_AMOUNT
            selectors.append({})
        bundles.append(bundle)
    return placement_group(
        bundles,
        strategy="STRICT_PACK" if len(bundles) == 1 else "STRICT_SPREAD",
        name=record.pg_name,
        lifetime="detached",
        bundle_label_selector=selectors,
    )


def group(pg_id: str) -> PlacementGroup:
    return PlacementGroup(ray.PlacementGroupID.from_hex(pg_id))


def remove_group(pg_id: str) -> None:
    if pg_id:
        remove_placement_group(group(pg_id))


def resources_back(
    record: Reservation, before: Mapping[str, Mapping[str, float]], timeout: float = RETURN_WAIT
) -> bool:
    """After its group's removal, wait (bounded) until Ray shows a placed record's
    resources free again (`before`: Ray's free figures read before the removal), so a
    release that returns means the next request can have them. Called with no lock held.
    False on timeout (other work took them meanwhile, say)."""
    resource = RAY_RESOURCE[record.type]
    want = {
        b.node_id: before.get(b.node_id, {}).get(resource, 0.0) + b.amount - 1e-6
        for b in record.bundles
    }
    deadline = time.monotonic() + timeout
    while True:
        now = ray_private.available_per_node()
        if all(now.get(n, {}).get(resource, 0.0) >= w for n, w in want.items()):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)


def draining(nodes: Mapping[str, RayNode]) -> set[str]:
    """Names of the nodes Ray is draining now."""
    ids = ray_private.draining_nodes()
    return {name for name, n in nodes.items() if n.node_id in ids}


def group_entry(pg_id: str) -> dict[str, Any] | None:
    """Ray's table entry for one group; None once it is removed (or never was)."""
    if not pg_id:
        return None
    entry = placement_group_table(group(pg_id))
    if not entry or entry.get("state") == "REMOVED":
        return None
    return dict(entry)


def group_table() -> dict[str, dict[str, Any]]:
    """{group id: entry} of every placement group Ray has not removed (anyone's)."""
    return {
        str(e["placement_group_id"]): dict(e)
        for e in placement_group_table().values()
        if e.get("state") != "REMOVED"
    }


def gridtui_groups() -> dict[str, dict[str, Any]]:
    """{reservation id: entry} for every live gridtui group: the truth to rebuild from."""
    out: dict[str, dict[str, Any]] = {}
    for entry in placement_group_table().values():
        parsed = parse_pg_name(str(entry.get("name", "")))
        if parsed is None or entry.get("state") == "REMOVED":
            continue
        out[parsed[1]] = {**entry, "kind": parsed[0]}
    return out
