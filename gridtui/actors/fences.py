"""Fences: detached placement groups holding a pressured node's free CPU/GPU from Ray."""

from __future__ import annotations

from collections.abc import Mapping

from ray.util.placement_group import placement_group, placement_group_table

from gridtui.actors import cluster
from gridtui.model.offload import fence_name, fenced_node
from gridtui.model.reservations import NODE_LABEL

FENCE_WAIT = 5
"""Seconds a fence may take to be placed before it counts as failed (and is withdrawn)."""


def groups() -> dict[str, list[str]]:
    """{node: [group id, ...]} of every live fence in Ray's table (a top-up is one more)."""
    out: dict[str, list[str]] = {}
    for entry in placement_group_table().values():
        node = fenced_node(str(entry.get("name", "")))
        if node is not None and entry.get("state") != "REMOVED":
            out.setdefault(node, []).append(str(entry["placement_group_id"]))
    return out


def free_bundle(free: Mapping[str, float]) -> dict[str, float]:
    """What a fence would hold of a node's free resources: its CPU and GPU."""
    return {r: free[r] for r in ("CPU", "GPU") if free.get(r, 0.0) > 0}


def held(bundle: Mapping[str, float]) -> str:
    return ", ".join(f"{v:g} {k}" for k, v in bundle.items() if not k.startswith("node:"))


def place(node: cluster.RayNode, bundle: dict[str, float], part: int) -> str:
    """Create one fence group holding `bundle` on `node` and return its id at once, placed
    or not (a drain waits for it while its client does); raises when Ray refuses it."""
    bundle = dict(bundle)
    selector: dict[str, str] = {}
    if node.labelled:
        selector = {NODE_LABEL: node.name}
    else:
        bundle[f"node:{node.address}"] = cluster.PIN_AMOUNT
    group = placement_group(
        [bundle],
        strategy="STRICT_PACK",
        name=fence_name(node.name, part),
        lifetime="detached",
        bundle_label_selector=[selector],
    )
    return str(group.id.hex())


def hold(node: cluster.RayNode, bundle: dict[str, float], part: int) -> tuple[str | None, str]:
    """(group id or None, result): place one fence group holding `bundle` on `node`,
    waiting until Ray has placed it; a group Ray does not place in time is withdrawn."""
    try:
        pg_id = place(node, bundle, part)
        ready = cluster.group(pg_id).wait(FENCE_WAIT)
    except Exception as exc:
        return None, f"failed: {str(exc).splitlines()[0]}"
    if not ready:
        cluster.remove_group(pg_id)
        return None, f"failed: Ray did not place the fence within {FENCE_WAIT}s"
    return pg_id, f"done: holding {held(bundle)}"


def lift(ids: list[str]) -> str:
    if not ids:
        return "done: no fence was held"
    failed = []
    for pg_id in ids:
        try:
            cluster.remove_group(pg_id)
        except Exception as exc:
            failed.append(str(exc).splitlines()[0])
    return f"failed: {failed[0]}" if failed else "done"
