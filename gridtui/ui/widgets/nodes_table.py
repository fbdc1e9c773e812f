"""The Nodes pane: one row per node, sortable by any figure, filtered by name/host/state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from gridtui.model.nodes import ClusterSnapshot, NodeState, NodeStatus, RayNodeInfo
from gridtui.model.objects import MemorySnapshot
from gridtui.model.ray import RayClusterView
from gridtui.model.reservations import ReservationsSnapshot, format_amount
from gridtui.model.work import WorkSnapshot
from gridtui.ui.feeds import feeds
from gridtui.ui.format import DASH, pct, size, used_total
from gridtui.ui.widgets.shown import WhenShown

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
_STATE_KIND = {NodeState.UP: "up", NodeState.STALE: "stale", NodeState.CONNECTING: "connecting"}


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


class NodesTable(ScrollView, can_focus=True):
    """Drawn line by line from the rows it was last given: a row is redrawn only when its
    node's status or Ray figures are new objects, or the cursor or sort moved past it."""

    DEFAULT_CSS = """
    NodesTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        &:focus {
            background-tint: $foreground 5%;
            & > .nodes-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .nodes-table--header {
                background-tint: $foreground 5%;
            }
        }
        &:dark > .nodes-table--even-row {
            background: $surface-darken-1 40%;
        }
        & > .nodes-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .nodes-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .nodes-table--even-row {
            background: $surface-lighten-1 50%;
        }
        & > .nodes-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .nodes-table--hover {
            background: $block-hover-background;
        }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "nodes-table--header",
        "nodes-table--even-row",
        "nodes-table--odd-row",
        "nodes-table--cursor",
        "nodes-table--hover",
        "nodes-table--up",
        "nodes-table--stale",
        "nodes-table--down",
        "nodes-table--connecting",
        "nodes-table--warn",
        "nodes-table--hot",
        "nodes-table--dim",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "first", "Home", show=False),
        Binding("end", "last", "End", show=False),
    ]

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
        super().__init__(name=name, id=id, classes=classes)
        self.hot_percent = hot_percent
        self.warn_percent = warn_percent
        self.snapshot: ClusterSnapshot | None = None
        self.ray_view = RayClusterView()
        self.reserved: dict[str, str] = {}
        """Node -> its "reserved" cell, from the newest ReservationsSnapshot."""
        self.stored: dict[str, int] = {}
        """Node -> bytes the memory store keeps there, from the newest MemorySnapshot."""
        self.work: dict[str, str] = {}
        """Node -> its Work cell, from the newest WorkSnapshot ("?" for all: not read)."""
        self.work_unknown = DASH
        self.rows: list[Row] = []
        """The rows in display order, after filter and sort."""
        self.visible_names: list[str] = []
        """Node names in display order (what the rows show)."""
        self.cursor_row = 0
        self._hover_row: int | None = None
        self._announced: str | None = None
        self._lines: dict[int, tuple[Row, tuple[Any, ...], Strip]] = {}
        """Row index -> the row and look a line was drawn for, and the line."""
        self._header: tuple[tuple[Any, ...], Strip] | None = None
        self._styles: dict[str, Style] = {}
        self._metas: dict[tuple[int, int], Style] = {}
        self._title = ""
        self._name_width = COLUMNS[0].width
        self._table_width = TABLE_WIDTH
        self._update = WhenShown(self, self._rebuild)
        """Rows are rebuilt only while the table's screen is on top (then once on return)."""

    def on_mount(self) -> None:
        self.virtual_size = Size(TABLE_WIDTH, 1)
        self._update.attach()
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)
        source = feeds(self.app)
        self.ray_view = source.ray_view
        source.ray_signal.subscribe(self, self.show_ray)
        self.show_reservations(source.reservations)
        source.reservations_signal.subscribe(self, self.show_reservations)
        self.show_memory(source.memory)
        source.memory_signal.subscribe(self, self.show_memory)
        self.show_work(source.work)
        source.work_signal.subscribe(self, self.show_work)

    def _theme_changed(self, _theme: object) -> None:
        self._forget_drawing()
        self.refresh()

    def notify_style_update(self) -> None:
        self._forget_drawing()
        super().notify_style_update()

    def _forget_drawing(self) -> None:
        self._styles.clear()
        self._lines.clear()
        self._header = None

    # -- public API the screen drives ------------------------------------------------------

    def show_snapshot(self, snapshot: ClusterSnapshot) -> None:
        self.snapshot = snapshot
        self._update()

    def show_ray(self, view: RayClusterView) -> None:
        self.ray_view = view
        self._update()

    def show_reservations(self, snapshot: ReservationsSnapshot) -> None:
        reserved = {node: reserved_text(held) for node, held in snapshot.reserved().items()}
        if reserved != self.reserved:
            self.reserved = reserved
            self._update()

    def show_memory(self, snapshot: MemorySnapshot) -> None:
        stored = {u.node: u.used for u in snapshot.usage}
        if stored != self.stored:
            self.stored = stored
            self._update()

    def show_work(self, snapshot: WorkSnapshot) -> None:
        # While Ray's dashboard is not read, every node's count is unknown ("?"), which
        # is not the same as none ("-").
        work = {n: c.label() for n, c in snapshot.counts().items()} if snapshot.connected else {}
        unknown = DASH if snapshot.connected else "?"
        if (work, unknown) != (self.work, self.work_unknown):
            self.work, self.work_unknown = work, unknown
            self._update()

    def cycle_sort(self) -> str:
        self.sort_index = (self.sort_index + 1) % len(COLUMNS)
        return COLUMNS[self.sort_index].label

    def reverse_sort(self) -> None:
        self.sort_reverse = not self.sort_reverse

    @property
    def current_node(self) -> str | None:
        if not 0 <= self.cursor_row < len(self.visible_names):
            return None
        return self.visible_names[self.cursor_row]

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def get_row_at(self, index: int) -> list[str]:
        """The texts of one row's cells, as shown."""
        return [column.cell(self.rows[index]) for column in COLUMNS]

    def get_cell(self, node: str, column_key: str) -> str:
        """The text of one cell, by node name and column key."""
        row = self.rows[self.visible_names.index(node)]
        return next(c for c in COLUMNS if c.key == column_key).cell(row)

    def move_cursor(self, row: int) -> None:
        """Put the cursor on a row (clamped), keep it in view, and say which node it is on."""
        old = self.cursor_row
        self.cursor_row = max(0, min(row, len(self.rows) - 1))
        if old != self.cursor_row:
            self.refresh_line(old + 1)
            self.refresh_line(self.cursor_row + 1)
        self._scroll_to_cursor()
        self._announce()

    # -- keys and mouse --------------------------------------------------------------------

    def action_cursor_up(self) -> None:
        self._keyboard()
        self.move_cursor(self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self._keyboard()
        self.move_cursor(self.cursor_row + 1)

    def action_page_up(self) -> None:
        self._keyboard()
        self.move_cursor(self.cursor_row - self._page())

    def action_page_down(self) -> None:
        self._keyboard()
        self.move_cursor(self.cursor_row + self._page())

    def action_first(self) -> None:
        self._keyboard()
        self.move_cursor(0)

    def action_last(self) -> None:
        self._keyboard()
        self.move_cursor(len(self.rows) - 1)

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _keyboard(self) -> None:
        """Keys move the cursor: the mouse's faint hover row goes until the mouse moves."""
        self._set_hover(None)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        row = event.style.meta.get("row")
        self._set_hover(row if isinstance(row, int) and row >= 0 else None)

    def on_leave(self, _event: events.Leave) -> None:
        self._set_hover(None)

    def on_click(self, event: events.Click) -> None:
        row = event.style.meta.get("row")
        if isinstance(row, int) and row >= 0:
            event.stop()
            self.move_cursor(row)

    def _set_hover(self, row: int | None) -> None:
        if row != self._hover_row:
            for old_or_new in (self._hover_row, row):
                if old_or_new is not None:
                    self.refresh_line(old_or_new + 1)
            self._hover_row = row

    def _scroll_to_cursor(self) -> None:
        visible = max(1, self.scrollable_content_region.height - 1)  # the header stays put
        top = round(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False, immediate=True)

    def _announce(self) -> None:
        current = self.current_node
        if current is not None and current != self._announced:
            self._announced = current
            self.post_message(self.NodeHighlighted(current))

    # -- rows ---------------------------------------------------------------------------

    def watch_sort_index(self) -> None:
        self._header = None
        self.refresh(Region(0, 0, self.size.width, 1))  # the arrow moves with the sort, at once
        self._update()

    def watch_sort_reverse(self) -> None:
        self.watch_sort_index()

    def watch_filter_text(self) -> None:
        self._update()

    def _ordered(self) -> list[Row]:
        if self.snapshot is None:
            return []
        column = COLUMNS[self.sort_index]
        ray = self.ray_view.nodes
        held = self.reserved
        rows = [
            Row(
                n,
                ray.get(n.name),
                held.get(n.name, DASH),
                self.stored.get(n.name),
                self.work.get(n.name, self.work_unknown),
            )
            for n in self.snapshot.nodes
            if matches(n, self.filter_text)
        ]
        present = [r for r in rows if column.sort(r) is not None]
        missing = [r for r in rows if column.sort(r) is None]
        present.sort(key=lambda r: (column.sort(r), r.node.name), reverse=self.sort_reverse)
        return present + sorted(missing, key=lambda r: r.node.name)  # unknown figures sink

    def _rebuild(self) -> bool:
        """Bring the rows up to date; whether there was a snapshot to draw (WhenShown)."""
        if not self.is_mounted:
            return False
        rows = self._ordered()
        names = [r.node.name for r in rows]
        current = self.current_node
        old = self.rows
        self.rows, self.visible_names = rows, names
        names_changed = names != [r.node.name for r in old]
        if names_changed:
            self._fit_names(names)
        if len(rows) != len(old) or self.virtual_size.width != self._table_width:
            self.virtual_size = Size(self._table_width, len(rows) + 1)
        if names_changed:
            self._lines.clear()
            self.refresh()
            cursor = names.index(current) if current in names else 0
            self.cursor_row = max(0, min(cursor, len(rows) - 1))
            self._scroll_to_cursor()
        else:
            top = round(self.scroll_y)
            for i in range(top, min(len(rows), top + self.scrollable_content_region.height)):
                new, was = rows[i], old[i]
                if (
                    new.node is not was.node
                    or new.ray is not was.ray
                    or new.reserved != was.reserved
                    or new.stored != was.stored
                    or new.work != was.work
                ):
                    self.refresh_line(i + 1)
        total = len(self.snapshot.nodes) if self.snapshot else 0
        title = f"1 Nodes {len(names)}/{total}"
        if self.filter_text.strip():
            title += f"  filter: {self.filter_text.strip()}"
        if title != self._title:
            self._title = self.border_title = title
        self._announce()
        return self.snapshot is not None

    def _fit_names(self, names: list[str]) -> None:
        """Widen the Node column to the longest name (within LONGEST_NAME), so no name is cut."""
        longest = max((cell_len(n) for n in names), default=0)
        width = max(COLUMNS[0].width, min(LONGEST_NAME, longest))
        if width != self._name_width:
            self._name_width = width
            self._table_width = TABLE_WIDTH + width - COLUMNS[0].width
            self._header = None
            self._lines.clear()

    def _width(self, column: NodeColumn) -> int:
        return self._name_width if column is COLUMNS[0] else column.width

    # -- drawing ------------------------------------------------------------------------

    def _style(self, name: str, partial: bool = False) -> Style:
        key = f"{name}:{partial}"
        style = self._styles.get(key)
        if style is None:
            style = self._styles[key] = self.get_component_rich_style(name, partial=partial)
        return style

    def _meta(self, row: int, column: int) -> Style:
        """Where a cell is (the mouse reads it back); it also keeps each cell's segments
        apart, as Rich draws table cells."""
        meta = self._metas.get((row, column))
        if meta is None:
            extra = {"out_of_bounds": True} if column < 0 else {}
            meta = Style.from_meta({"row": row, "column": max(column, 0), **extra})
            if len(self._metas) > 5000:
                self._metas.clear()
            self._metas[(row, column)] = meta
        return meta

    def _cell(self, row: Row, column: NodeColumn) -> tuple[str, str, Justify]:
        """A cell's text, its look (a component class suffix) and its justification."""
        value = column.cell(row)
        if column.key == "state":
            return value, _STATE_KIND.get(row.node.state, "down"), column.justify
        if column.percent:
            figure = column.sort(row)
            if figure is None:
                return value, "dim", "right"
            hot, warn = figure >= self.hot_percent, figure >= self.warn_percent
            return value, "hot" if hot else "warn" if warn else "", "right"
        if value == DASH:
            return value, "dim", None
        return value, "", column.justify

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        x = round(self.scroll_x)
        if y == 0:
            return self._crop(self._header_line(width), x, width)
        index = y - 1 + round(self.scroll_y)
        if not 0 <= index < len(self.rows):
            return Strip.blank(width, self.rich_style)
        row = self.rows[index]
        look = (
            index == self.cursor_row,
            index == self._hover_row,
            self.has_focus,
            width,
        )
        cached = self._lines.get(index)
        if (
            cached is None
            or cached[0].node is not row.node
            or cached[0].ray is not row.ray
            or cached[0].reserved != row.reserved
            or cached[0].stored != row.stored
            or cached[0].work != row.work
            or cached[1] != look
        ):
            if len(self._lines) > 2000:
                self._lines.clear()
            cached = self._lines[index] = (row, look, self._row_line(index, row, *look))
        return self._crop(cached[2], x, width)

    def _crop(self, line: Strip, x: int, width: int) -> Strip:
        return line.crop(x, x + width).adjust_cell_length(width, self.rich_style).simplify()

    def _header_line(self, width: int) -> Strip:
        look = (self.sort_index, self.sort_reverse, self.has_focus, width)
        if self._header is not None and self._header[0] == look:
            return self._header[1]
        style = self._style("nodes-table--header")
        arrow = " ▼" if self.sort_reverse else " ▲"
        segments: list[Segment] = []
        for i, column in enumerate(COLUMNS):
            label = column.label + (arrow if i == self.sort_index else "")
            pre = style + self._meta(-1, i)
            segments += cell_segments(label, Style(), None, self._width(column), pre, Style())
        rest = Segment(" " * max(0, width - self._table_width), style + self._meta(-1, -1))
        self._header = (look, Strip([*segments, rest]))
        return self._header[1]

    def _row_line(
        self, index: int, row: Row, cursor: bool, hover: bool, _focus: bool, width: int
    ) -> Strip:
        row_style = self._style("nodes-table--odd-row" if index % 2 else "nodes-table--even-row")
        look = Style()
        if hover:
            look += self._style("nodes-table--hover")
        if cursor:
            look += self._style("nodes-table--cursor")
        # The cursor's colours win over a cell's own (a red DOWN reads on the cursor too).
        post = Style.from_color(look.color) + Style.from_color(bgcolor=look.bgcolor)
        segments: list[Segment] = []
        for i, column in enumerate(COLUMNS):
            text, kind, justify = self._cell(row, column)
            text_style = self._style(f"nodes-table--{kind}", partial=True) if kind else Style()
            pre = row_style + self._meta(index, i) + look
            segments += cell_segments(text, text_style, justify, self._width(column), pre, post)
        rest = row_style + look + self._meta(index, -1)
        segments.append(Segment(" " * max(0, width - self._table_width), rest))
        return Strip(segments)
