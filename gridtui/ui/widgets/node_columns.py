"""The Nodes table's columns: what each shows of a node, how it sorts, and how a cell is cut."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style

from gridtui.model.nodes import NodeState, NodeStatus, RayNodeInfo
from gridtui.model.reservations import format_amount
from gridtui.ui.format import DASH, pct, size, used_total

_STATE_ORDER = {s: i for i, s in enumerate(NodeState)}
Justify = Literal["left", "right"] | None


class Row(NamedTuple):
    """One node as a row shows it: the hub's figures and Ray's view of the same node."""

    node: NodeStatus
    ray: RayNodeInfo | None
    reserved: str = DASH
    """What boosts and shared allocations hold on the node ("2 CPU 1 GiB")."""
    stored: int | None = None
    """Bytes the memory store keeps on the node (None: it has no shard there)."""
    work: str = DASH
    """Jobs, actors and running tasks of the user's on the node (the Work view's count);
    `?` while Ray's dashboard is not read."""


def _ray_state(r: Row) -> str:
    """alive, dead, or drain: Ray drains it (it takes no new work)."""
    if r.ray is None:
        return DASH
    if r.ray.alive:
        return "drain" if r.ray.draining else "alive"
    return "dead"


def _live_ray(r: Row) -> RayNodeInfo | None:
    """Ray's figures for a node it considers alive; a dead node's resources mean nothing."""
    return r.ray if r.ray is not None and r.ray.alive else None


def _ray_cpu(row: Row) -> str:
    r = _live_ray(row)
    return DASH if r is None else used_total(r.cpu_total - r.cpu_available, r.cpu_total)


def _ray_gpu(row: Row) -> str:
    r = _live_ray(row)
    return DASH if r is None else used_total(r.gpu_total - r.gpu_available, r.gpu_total)


def _ray_store(row: Row) -> str:
    r = _live_ray(row)
    if r is None:
        return DASH
    return f"{size(r.object_store_total - r.object_store_available)}/{size(r.object_store_total)}"


def _ray_used(row: Row) -> float | None:
    r = _live_ray(row)
    return None if r is None else r.cpu_total - r.cpu_available


def reserved_text(held: dict[str, float] | None) -> str:
    """The Nodes table's "reserved" cell: each type's held amount, CPU first."""
    if not held:
        return DASH
    return " ".join(format_amount(t, held[t]) for t in ("cpu", "gpu", "memory") if t in held)


def _reserved_sort(row: Row) -> str | None:
    return None if row.reserved == DASH else row.reserved


@dataclass(frozen=True)
class NodeColumn:
    key: str
    label: str
    width: int
    cell: Callable[[Row], str]
    sort: Callable[[Row], Any]
    percent: bool = False
    justify: Justify = "left"


COLUMNS: tuple[NodeColumn, ...] = (
    NodeColumn("name", "Node", 12, lambda r: r.node.name, lambda r: r.node.name),
    NodeColumn(
        "role", "Role", 6, lambda r: r.node.role, lambda r: (r.node.role != "head", r.node.name)
    ),
    NodeColumn(
        "state",
        "State",
        11,
        lambda r: r.node.state.value,
        lambda r: _STATE_ORDER[r.node.state],
        justify=None,
    ),
    NodeColumn(
        "cpu", "CPU%", 6, lambda r: pct(r.node.cpu_percent), lambda r: r.node.cpu_percent, True
    ),
    NodeColumn(
        "mem", "MEM%", 6, lambda r: pct(r.node.mem_percent), lambda r: r.node.mem_percent, True
    ),
    NodeColumn(
        "gpu", "GPU%", 6, lambda r: pct(r.node.gpu_percent), lambda r: r.node.gpu_percent, True
    ),
    # The load average went to the node detail to make room for "Stored" (width budget).
    NodeColumn("ray", "Ray", 5, _ray_state, _ray_state),
    NodeColumn("reserved", "Reserved", 11, lambda r: r.reserved, _reserved_sort),
    NodeColumn(
        "stored",
        "Stored",
        6,
        lambda r: DASH if r.stored is None else size(r.stored),
        lambda r: r.stored,
        justify="right",
    ),
    NodeColumn(
        "work",
        "Work",
        4,
        lambda r: r.work,
        lambda r: int(r.work) if r.work.isdigit() else None,
        justify="right",
    ),
    NodeColumn("ray_cpu", "Ray CPU", 7, _ray_cpu, _ray_used),
    NodeColumn(
        "ray_gpu", "Ray GPU", 7, _ray_gpu, lambda r: None if r.ray is None else r.ray.gpu_total
    ),
    NodeColumn(
        "ray_store",
        "Obj store",
        11,
        _ray_store,
        lambda r: None if r.ray is None else r.ray.object_store_total,
    ),
)
PAD = 1
"""Blank cells either side of every column's text."""
TABLE_WIDTH = sum(c.width + 2 * PAD for c in COLUMNS)
LONGEST_NAME = 32
"""The Node column widens for longer names, up to this many cells."""
STATE_KIND = {NodeState.UP: "up", NodeState.STALE: "stale", NodeState.CONNECTING: "connecting"}


def matches(node: NodeStatus, text: str) -> bool:
    """The filter: a case-insensitive substring of the name, host or state."""
    needle = text.strip().lower()
    return not needle or any(needle in s.lower() for s in (node.name, node.host, node.state.value))


def cell_segments(
    text: str, text_style: Style, justify: Justify, width: int, pre: Style, post: Style
) -> list[Segment]:
    """One padded cell, segmented as Rich renders Padding(Text) for a table cell: a justified
    text carries its own style into its padding, an unjustified one leaves it to the row."""
    text = set_cell_size(text, width) if cell_len(text) > width else text
    pad = Segment(" " * PAD, pre + post)
    if justify is None:
        fill = width - cell_len(text)
        body = [Segment(text, pre + text_style + post), Segment(" " * fill, pre + post)]
        return [pad, *(s for s in body if s.text), pad]
    justified = text.rjust(width) if justify == "right" else set_cell_size(text, width)
    return [pad, Segment(justified, pre + text_style + post), pad]
