"""Ray's node table matched to the config's node names, shared by ClusterOps and RayGateway."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gridtui.config import ClusterConfig
from gridtui.model.nodes import RayNodeInfo
from gridtui.services.ray_commands import LABEL_KEY


def match_nodes(
    config: ClusterConfig, entries: Iterable[Mapping[str, Any]]
) -> dict[str, Mapping[str, Any]]:
    """{node name: Ray entry}: by the gridtui label, else by NodeManagerAddress == host.

    A restarted node leaves a dead entry beside its new one, so alive entries win."""
    by_label: dict[str, Mapping[str, Any]] = {}
    by_address: dict[str, Mapping[str, Any]] = {}
    for entry in entries:
        for table, key in (
            (by_label, (entry.get("labels") or {}).get(LABEL_KEY)),
            (by_address, entry.get("address")),
        ):
            if not key:
                continue
            old = table.get(key)
            if old is None or (entry.get("alive") and not old.get("alive")):
                table[key] = entry
    out: dict[str, Mapping[str, Any]] = {}
    for node in config.nodes:
        found = by_label.get(node.name)
        if found is None:
            candidate = by_address.get(node.host)
            labelled = (candidate or {}).get("labels") or {}
            # An address match only counts for a node Ray knows under no other gridtui name.
            if candidate is not None and labelled.get(LABEL_KEY) in (None, node.name):
                found = candidate
        if found is not None:
            out[node.name] = found
    return out


def ray_info(entry: Mapping[str, Any]) -> RayNodeInfo:
    total = entry.get("total") or {}
    avail = entry.get("available") or {}
    store_total = float(total.get("object_store_memory", 0.0))
    used = entry.get("store_used")
    store_avail = (
        max(0.0, store_total - float(used))
        if used is not None
        else float(avail.get("object_store_memory", store_total))
    )
    alive = bool(entry.get("alive"))
    return RayNodeInfo(
        alive=alive,
        node_id=str(entry.get("node_id", "")),
        cpu_total=float(total.get("CPU", 0.0)),
        cpu_available=float(avail.get("CPU", 0.0)) if alive else 0.0,
        gpu_total=float(total.get("GPU", 0.0)),
        gpu_available=float(avail.get("GPU", 0.0)) if alive else 0.0,
        object_store_total=store_total,
        object_store_available=store_avail,
    )


def ray_infos(
    config: ClusterConfig, entries: Iterable[Mapping[str, Any]]
) -> dict[str, RayNodeInfo]:
    return {name: ray_info(e) for name, e in match_nodes(config, entries).items()}
