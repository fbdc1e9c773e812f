"""One status row per node merging SSH reachability, our Ray processes and Ray's own view."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from gridtui.config import ClusterConfig, NodeConfig
from gridtui.model.ray import match_nodes, ray_info
from gridtui.model.units import size
from gridtui.services.cluster.advice import about, advised
from gridtui.services.cluster.procs import NodeScriptError, RayProcess, running_auth
from gridtui.services.ray import auth as ray_auth
from gridtui.transport.base import TransportError


@dataclass(frozen=True)
class NodeRow:
    """One node's status; a figure nobody could read is None (null in JSON), never 0."""

    name: str
    host: str
    role: str
    reachable: bool  # SSH (or the local transport) got through, whatever ran after
    reach_error: str  # why not, when not reachable: the full message, never cut
    processes: int | None
    rss: int | None
    # ALIVE, DRAINING (alive, taking nothing new), DEAD, ABSENT (not in Ray's table) or
    # UNKNOWN (Ray not readable)
    ray_state: str
    reach_reason: str = ""  # the transport's reason word (refused, auth, timeout, ...)
    problem: str = ""  # reached, but the node cannot answer (no Python there, ...)
    node_id: str = ""
    cpu_total: float | None = None
    cpu_available: float | None = None
    gpu_total: float | None = None
    gpu_available: float | None = None
    memory_total: float | None = None
    memory_available: float | None = None
    store_total: float | None = None
    store_used: float | None = None
    # The RAY_AUTH_MODE its running raylet (and GCS) have: token, disabled, unset (Ray
    # decides), mixed; None when no Ray process of ours runs there.
    ray_auth: str | None = None

    @property
    def healthy(self) -> bool:
        return self.reachable and not self.problem and self.ray_state == "ALIVE"

    @property
    def note(self) -> str:
        """The full reason this node is not fine, advice included, or ''."""
        if not (self.reach_error or self.problem) and self.ray_state == "DRAINING":
            return (
                f"{self.name}: Ray drains it: it takes no new work until Ray restarts on "
                "it (`gridtui node undrain` cannot lift Ray's drain)"
            )
        return self.reach_error or self.problem


@dataclass(frozen=True)
class ClusterStatus:
    name: str
    rows: tuple[NodeRow, ...]
    ray_error: str = ""
    ray_auth: str = "token"  # what the cluster file asks every node for
    ray_auth_token_file: str = ""  # this machine's copy of the token (the path, never it)

    @property
    def healthy(self) -> bool:
        return not self.ray_error and all(r.healthy for r in self.rows)

    def to_json(self) -> dict[str, Any]:
        return {
            "cluster": self.name,
            "healthy": self.healthy,
            "ray_error": self.ray_error,
            "ray_auth": self.ray_auth,
            "ray_auth_token_file": self.ray_auth_token_file or None,
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
            # The word here, the whole reason below the table: never cut short.
            ssh = "ok" if r.reachable else r.reach_reason or "unreachable"
            if r.reachable and r.problem:
                ssh = "ok, but"
            known = r.ray_state in ("ALIVE", "DRAINING")
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
                    "-" if r.processes is None else str(r.processes),
                    r.ray_state,
                    _used(r.cpu_total, r.cpu_available) if known else "-",
                    _used(r.gpu_total, r.gpu_available) if known else "-",
                    store,
                )
            )
        widths = [max(len(str(row[i])) for row in lines) for i in range(len(head))]
        out = [
            "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in lines
        ]
        verdict = "healthy" if self.healthy else "NOT healthy"
        out += [r.note for r in self.rows if r.note]
        if self.ray_error:
            out.append(f"Ray: {self.ray_error}")
        if self.ray_auth != "token":
            out.append("Ray auth: disabled (ray.auth in the cluster file): anyone who reaches")
            out.append("  the head's GCS port can run code on every node")
        out.append(f"cluster {self.name}: {verdict}")
        return "\n".join(out)


def _used(total: float | None, available: float | None) -> str:
    if total is None:
        return "?"
    used = "?" if available is None else f"{total - available:g}"
    return f"{used}/{total:g}"


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
        plist: Sequence[RayProcess] | None = None
        reach_error = reason = problem = ""
        if isinstance(found, TransportError):
            reach_error, reason = (
                advised(about(node.name, found.message), found.reason),
                found.reason,
            )
        elif isinstance(found, NodeScriptError):  # SSH got through; the node could not answer
            problem = advised(about(node.name, found.summary), found.cause)
        elif isinstance(found, BaseException):
            reach_error, reason = about(node.name, str(found)), "error"
        elif found is None:
            reach_error, reason = f"{node.name}: not asked", "error"
        else:
            plist = found
        running = running_auth(list(plist)) if plist else None
        if running is not None and running != config.ray.auth and not problem:
            problem = (
                f"{node.name}: Ray runs with RAY_AUTH_MODE {running}, the cluster file wants "
                f"{config.ray.auth}: restart it (gridtui cluster stop, then start)"
            )
        entry = matched.get(node.name)
        base: dict[str, Any] = dict(
            name=node.name,
            host=node.host,
            role="head" if node is config.head else "worker",
            reachable=not reach_error,
            reach_error=reach_error,
            reach_reason=reason,
            problem=problem,
            processes=None if plist is None else len(plist),
            rss=None if plist is None else sum(p.rss for p in plist),
            ray_auth=running,
        )
        if entry is None:
            rows.append(NodeRow(**base, ray_state="UNKNOWN" if ray_error else "ABSENT"))
            continue
        info = ray_info(entry)
        alive = info.alive
        rows.append(
            NodeRow(
                **base,
                ray_state=("DRAINING" if info.draining else "ALIVE") if alive else "DEAD",
                node_id=info.node_id,
                cpu_total=info.cpu_total,
                # A dead node's availability is nobody's figure.
                cpu_available=info.cpu_available if alive else None,
                gpu_total=info.gpu_total,
                gpu_available=info.gpu_available if alive else None,
                memory_total=info.memory_total,
                memory_available=info.memory_available if alive else None,
                store_total=info.object_store_total,
                store_used=info.store_used,
            )
        )
    token = str(ray_auth.token_file(config)) if ray_auth.enabled(config) else ""
    return ClusterStatus(config.name, tuple(rows), ray_error, config.ray.auth, token)


def _figure(table: Mapping[str, Any], key: str) -> float | None:
    value = table.get(key)
    return None if value is None else float(value)


async def collect_status(
    config: ClusterConfig,
    probe: Callable[[NodeConfig], Awaitable[Sequence[RayProcess] | BaseException]],
    view: Awaitable[Sequence[Mapping[str, Any]] | str],
    deadline: float,
) -> ClusterStatus:
    """Every node's probe and Ray's view at once, within `deadline` seconds in all: a node
    (or the head's view) still silent then is a timeout that says so, never a longer wait."""
    names = [n.name for n in config.nodes]
    tasks = [asyncio.ensure_future(probe(n)) for n in config.nodes]
    view_task = asyncio.ensure_future(view)
    try:
        await asyncio.wait([*tasks, view_task], timeout=deadline)
    finally:
        pending = [t for t in (*tasks, view_task) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:  # let them unwind (close half-open connects), but never hang here
            await asyncio.wait(pending, timeout=2)
    silent = f"no answer within {deadline:g}s (cluster status --timeout)"
    found = {
        name: task.result()
        if task.done() and not task.cancelled()
        else TransportError("timeout", f"{name}: {silent}")
        for name, task in zip(names, tasks, strict=True)
    }
    table = (
        view_task.result()
        if view_task.done() and not view_task.cancelled()
        else f"{config.head.name}: Ray's node table: {silent}"
    )
    return build_status(config, found, table)
