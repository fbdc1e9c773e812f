"""Ray's view of the cluster: its node table parsed once, matched to the config's node names."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from gridtui.model.feed import FeedKey
from gridtui.model.nodes import RayNodeInfo

LABEL_KEY = "gridtui.node"
"""The Ray node label `ray start` is given, so a node is found by name whatever its address."""


class _Node(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def host(self) -> str: ...


class _Cluster(Protocol):
    @property
    def nodes(self) -> Sequence[_Node]: ...


@dataclass(frozen=True)
class RayClusterView:
    """What the Ray view service publishes: one immutable value per change."""

    connected: bool | None = None
    """None: no Ray in use (recorded data); False: down, or on its way up when `pending`."""
    message: str = ""
    pending: bool = False
    """Ray is being brought up (the demo's start): `message` is progress, not a failure."""
    nodes: Mapping[str, RayNodeInfo] = field(default_factory=dict)
    """Keyed by the config's node names; a node Ray does not know is absent."""

    def node(self, name: str) -> RayNodeInfo | None:
        return self.nodes.get(name)


def match_nodes(
    config: _Cluster, entries: Iterable[Mapping[str, Any]]
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
    """One entry of the node script's `ray_view` (the gateway's too), parsed once for the
    console's Ray view and the CLI's status table."""
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
        memory_total=float(total.get("memory", 0.0)),
        memory_available=float(avail.get("memory", 0.0)),
        store_used=None if used is None else float(used),
        draining=alive and bool(entry.get("draining")),
    )


def ray_infos(config: _Cluster, entries: Iterable[Mapping[str, Any]]) -> dict[str, RayNodeInfo]:
    return {name: ray_info(e) for name, e in match_nodes(config, entries).items()}


RAY: FeedKey[RayClusterView] = FeedKey("ray", RayClusterView)
"""Ray's node table as the Ray view last read it."""
