"""One status row per node merging SSH reachability, our Ray processes and Ray's own view."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from gridtui.config import ClusterConfig
from gridtui.model.ray import match_nodes, ray_info
from gridtui.model.units import size
from gridtui.services.procs import RayProcess


@dataclass(frozen=True)
class NodeRow:
    name: str
    host: str
    role: str
    reachable: bool
    reach_error: str
    processes: int
    rss: int
    ray_state: str  # ALIVE, DEAD, ABSENT (not in Ray's table) or UNKNOWN (Ray not readable)
    node_id: str = ""
    cpu_total: float = 0.0
    cpu_available: float = 0.0
    gpu_total: float = 0.0
    gpu_available: float = 0.0
    memory_total: float = 0.0
    memory_available: float = 0.0
    store_total: float = 0.0
    store_used: float | None = None

    @property
    def healthy(self) -> bool:
        return self.reachable and self.ray_state == "ALIVE"


@dataclass(frozen=True)
class ClusterStatus:
    name: str
    rows: tuple[NodeRow, ...]
    ray_error: str = ""

    @property
    def healthy(self) -> bool:
        return not self.ray_error and all(r.healthy for r in self.rows)

    def to_json(self) -> dict[str, Any]:
        return {
            "cluster": self.name,
            "healthy": self.healthy,
            "ray_error": self.ray_error,
            "nodes": [dict(asdict(r), healthy=r.healthy) for r in self.rows],
        }

    def table(self) -> str:
        head = (
            "NODE",
            "HOST",
            "ROLE",
            "SSH",
            "PROCS",
            "RAY",
            "CPU used/total",
            "GPU used/total",
            "OBJECT STORE",
        )
        lines = [head]
        for r in self.rows:
            ssh = "ok" if r.reachable else r.reach_error[:40] or "unreachable"
            known = r.ray_state == "ALIVE"
            store = (
                f"{_size(r.store_used)}/{_size(r.store_total)}"
                if known and r.store_used is not None
                else (f"?/{_size(r.store_total)}" if known else "-")
            )
            lines.append(
                (
                    r.name,
                    r.host,
                    r.role,
                    ssh,
                    str(r.processes) if r.reachable else "-",
                    r.ray_state,
                    f"{r.cpu_total - r.cpu_available:g}/{r.cpu_total:g}" if known else "-",
                    f"{r.gpu_total - r.gpu_available:g}/{r.gpu_total:g}" if known else "-",
                    store,
                )
            )
        widths = [max(len(str(row[i])) for row in lines) for i in range(len(head))]
        out = [
            "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in lines
        ]
        verdict = "healthy" if self.healthy else "NOT healthy"
        if self.ray_error:
            out.append(f"Ray: {self.ray_error}")
        out.append(f"cluster {self.name}: {verdict}")
        return "\n".join(out)


def _size(n: float | None) -> str:
    return "?" if n is None else size(n, iec=True)


def build_status(
    config: ClusterConfig,
    procs: Mapping[str, Sequence[RayProcess] | BaseException],
    view: Sequence[Mapping[str, Any]] | str,
) -> ClusterStatus:
    """`view` is Ray's node table, or the reason it could not be read."""
    ray_error = view if isinstance(view, str) else ""
    matched = match_nodes(config, view) if not isinstance(view, str) else {}
    rows = []
    for node in config.nodes:
        found = procs.get(node.name)
        reachable = not isinstance(found, BaseException) and found is not None
        plist: Sequence[RayProcess] = found if reachable else ()  # type: ignore[assignment]
        entry = matched.get(node.name)
        base: dict[str, Any] = dict(
            name=node.name,
            host=node.host,
            role="head" if node is config.head else "worker",
            reachable=reachable,
            reach_error="" if reachable else str(found),
            processes=len(plist),
            rss=sum(p.rss for p in plist),
        )
        if entry is None:
            rows.append(NodeRow(**base, ray_state="UNKNOWN" if ray_error else "ABSENT"))
            continue
        info = ray_info(entry)
        rows.append(
            NodeRow(
                **base,
                ray_state="ALIVE" if info.alive else "DEAD",
                node_id=info.node_id,
                cpu_total=info.cpu_total,
                cpu_available=info.cpu_available,
                gpu_total=info.gpu_total,
                gpu_available=info.gpu_available,
                memory_total=info.memory_total,
                memory_available=info.memory_available,
                store_total=info.object_store_total,
                store_used=info.store_used,
            )
        )
    return ClusterStatus(config.name, tuple(rows), ray_error)
