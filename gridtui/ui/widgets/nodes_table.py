"""The Nodes pane: one row per node, sortable by any figure, filtered by name/host/state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from rich.console import JustifyMethod
from rich.style import Style
from rich.text import Text
from textual._types import SegmentLines
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable

from gridtui.model.nodes import ClusterSnapshot, NodeState, NodeStatus, RayNodeInfo
from gridtui.model.ray import RayClusterView
from gridtui.ui.feeds import feeds
from gridtui.ui.format import DASH, num, pct, size, used_total

_STATE_ORDER = {s: i for i, s in enumerate(NodeState)}


class Row(NamedTuple):
    """One node as a row shows it: the hub's figures and Ray's view of the same node."""

    node: NodeStatus
    ray: RayNodeInfo | None


def _ray_state(r: Row) -> str:
    return DASH if r.ray is None else ("alive" if r.ray.alive else "dead")


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


@dataclass(frozen=True)
class NodeColumn:
    key: str
    label: str
    width: int
    cell: Callable[[Row], str]
    sort: Callable[[Row], Any]
    percent: bool = False


COLUMNS: tuple[NodeColumn, ...] = (
    NodeColumn("name", "Node", 12, lambda r: r.node.name, lambda r: r.node.name),
    NodeColumn(
        "role", "Role", 6, lambda r: r.node.role, lambda r: (r.node.role != "head", r.node.name)
    ),
    NodeColumn(
        "state", "State", 11, lambda r: r.node.state.value, lambda r: _STATE_ORDER[r.node.state]
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
    NodeColumn("load", "Load", 6, lambda r: num(r.node.load1), lambda r: r.node.load1),
    NodeColumn("ray", "Ray", 5, _ray_state, _ray_state),
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


def matches(node: NodeStatus, text: str) -> bool:
    """The filter: a case-insensitive substring of the name, host or state."""
    needle = text.strip().lower()
    return not needle or any(needle in s.lower() for s in (node.name, node.host, node.state.value))


class NodesTable(DataTable[Any]):
    """Rows are keyed by node name, so the cursor stays on its node across updates and sorts."""

    COMPONENT_CLASSES = DataTable.COMPONENT_CLASSES | {
        "nodes-table--up",
        "nodes-table--stale",
        "nodes-table--down",
        "nodes-table--connecting",
        "nodes-table--warn",
        "nodes-table--hot",
        "nodes-table--dim",
    }

    class NodeHighlighted(Message):
        """The cursor moved to a node: the screen points the other panes at it."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    sort_index: reactive[int] = reactive(2)
    """Which of COLUMNS orders the rows (state by default: trouble floats up)."""
    sort_reverse: reactive[bool] = reactive(False)
    filter_text: reactive[str] = reactive("")

    def __init__(
        self,
        *,
        hot_percent: float = 90.0,
        warn_percent: float = 75.0,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, name=name, id=id, classes=classes)
        self.hot_percent = hot_percent
        self.warn_percent = warn_percent
        self.snapshot: ClusterSnapshot | None = None
        self.ray_view = RayClusterView()
        self.visible_names: list[str] = []
        """Node names in display order, after filter and sort (what the rows show)."""
        self._shown: dict[str, Row] = {}
        """What each row was drawn from: the services keep an object until it changes."""
        self._styles: dict[str, Style] = {}
        self._texts: dict[tuple[str, str, JustifyMethod | None], Text] = {}
        """Equal cells share one Text, so an unchanged figure is neither updated nor redrawn."""
        self._cell_lines: dict[tuple[Any, ...], tuple[object, SegmentLines]] = {}
        self._title = ""

    def on_mount(self) -> None:
        for col in COLUMNS:
            self.add_column(col.label, width=col.width, key=col.key)
        self._label_columns()
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)
        source = feeds(self.app)
        self.ray_view = source.ray_view
        source.ray_signal.subscribe(self, self.show_ray)

    def _theme_changed(self, _theme: object) -> None:
        self._styles.clear()
        self._texts.clear()
        self._rebuild(force=True)

    # -- public API the screen drives ------------------------------------------------------

    def show_snapshot(self, snapshot: ClusterSnapshot) -> None:
        self.snapshot = snapshot
        self._rebuild()

    def show_ray(self, view: RayClusterView) -> None:
        self.ray_view = view
        self._rebuild()

    def cycle_sort(self) -> str:
        self.sort_index = (self.sort_index + 1) % len(COLUMNS)
        return COLUMNS[self.sort_index].label

    def reverse_sort(self) -> None:
        self.sort_reverse = not self.sort_reverse

    @property
    def current_node(self) -> str | None:
        if not self.visible_names or not 0 <= self.cursor_row < len(self.visible_names):
            return None
        return self.visible_names[self.cursor_row]

    # -- rendering ------------------------------------------------------------------------

    def watch_sort_index(self) -> None:
        self._label_columns()
        self._rebuild()

    def watch_sort_reverse(self) -> None:
        self._label_columns()
        self._rebuild()

    def watch_filter_text(self) -> None:
        self._rebuild()

    def _label_columns(self) -> None:
        if not self.columns:
            return
        arrow = " ▲" if not self.sort_reverse else " ▼"
        for i, col in enumerate(COLUMNS):
            label = col.label + (arrow if i == self.sort_index else "")
            self.columns[col.key].label = Text(label)  # type: ignore[index]
        self.refresh()

    def _ordered(self) -> list[Row]:
        if self.snapshot is None:
            return []
        column = COLUMNS[self.sort_index]
        ray = self.ray_view.nodes
        rows = [
            Row(n, ray.get(n.name)) for n in self.snapshot.nodes if matches(n, self.filter_text)
        ]
        present = [r for r in rows if column.sort(r) is not None]
        missing = [r for r in rows if column.sort(r) is None]
        present.sort(key=lambda r: (column.sort(r), r.node.name), reverse=self.sort_reverse)
        return present + sorted(missing, key=lambda r: r.node.name)  # unknown figures sink

    def _text(self, value: str, kind: str = "", justify: JustifyMethod | None = None) -> Text:
        """One shared Text per (value, style, justify); styles resolve once per theme."""
        key = (value, kind, justify)
        text = self._texts.get(key)
        if text is None:
            if len(self._texts) > 20_000:
                self._texts.clear()
            style = self._styles.get(kind) if kind else None
            if kind and style is None:
                style = self.get_component_rich_style(f"nodes-table--{kind}", partial=True)
                self._styles[kind] = style
            text = self._texts[key] = Text(value, style=style or "", justify=justify)
        return text

    def _cell(self, row: Row, column: NodeColumn) -> Text:
        value = column.cell(row)
        node = row.node
        if column.key == "state":
            kind = {
                NodeState.UP: "up",
                NodeState.STALE: "stale",
                NodeState.CONNECTING: "connecting",
            }.get(node.state, "down")
            return self._text(value, kind)
        if column.percent:
            figure = column.sort(row)
            if figure is None:
                return self._text(value, "dim", "right")
            kind = (
                "hot"
                if figure >= self.hot_percent
                else "warn"
                if figure >= self.warn_percent
                else ""
            )
            return self._text(value, kind, "right")
        if value == DASH:
            return self._text(value, "dim")
        return self._text(value, "", "right" if column.key in ("load",) else "left")

    def _rebuild(self, force: bool = False) -> None:
        if not self.is_mounted or not self.columns:
            return
        rows = self._ordered()
        names = [r.node.name for r in rows]
        current = self.current_node
        if force or len(names) != len(self.visible_names) or set(names) != set(self._shown):
            self.clear()
            self._cell_lines.clear()
            for row in rows:
                self.add_row(*(self._cell(row, c) for c in COLUMNS), key=row.node.name)
            self._shown = {row.node.name: row for row in rows}
            self.visible_names = names
            if current in names:
                self.move_cursor(row=names.index(current), animate=False)
        else:
            self._update_changed(rows)
            if names != self.visible_names:
                rank = {name: i for i, name in enumerate(names)}
                self.sort("name", key=lambda cell: rank[cell.plain])
                self.visible_names = names
                if current in rank:
                    self.move_cursor(row=rank[current], animate=False)
        total = len(self.snapshot.nodes) if self.snapshot else 0
        title = f"Nodes {len(names)}/{total}"
        if self.filter_text.strip():
            title += f"  filter: {self.filter_text.strip()}"
        if title != self._title:
            self._title = self.border_title = title
        if self.current_node != current and self.current_node is not None:
            self.post_message(self.NodeHighlighted(self.current_node))

    def _update_changed(self, rows: list[Row]) -> None:
        """Touch only rows with a new NodeStatus or RayNodeInfo, and only cells that differ."""
        for row in rows:
            name = row.node.name
            shown = self._shown.get(name)
            if shown is not None and shown.node is row.node and shown.ray is row.ray:
                continue
            self._shown[name] = row
            for column in COLUMNS:
                cell = self._cell(row, column)
                if self.get_cell(name, column.key) is not cell:
                    self.update_cell(name, column.key, cell)

    # -- drawing: DataTable redraws every visible cell after any update_cell --------------

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> SegmentLines:
        """Reuse a cell's lines while its value object and look are the same."""
        if column_index < 0:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        column_key = self._column_locations.get_key(column_index)
        if row_index < 0:
            value: object = self.columns[column_key].label  # type: ignore[index]
            row_key: object = None
        else:
            row_key = self._row_locations.get_key(row_index)
            value = self._data[row_key][column_key]  # type: ignore[index]
        key = (
            row_key,
            column_key,
            row_index,
            base_style,
            width,
            cursor,
            hover,
            self.show_cursor,
            self._show_hover_cursor,
            self._pseudo_class_state,
        )
        hit = self._cell_lines.get(key)
        if hit is not None and hit[0] is value:
            return hit[1]
        if len(self._cell_lines) > 20_000:
            self._cell_lines.clear()
        lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        self._cell_lines[key] = (value, lines)
        return lines

    def notify_style_update(self) -> None:
        self._cell_lines.clear()
        super().notify_style_update()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.NodeHighlighted(event.row_key.value))
