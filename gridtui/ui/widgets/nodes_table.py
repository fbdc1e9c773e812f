"""The Nodes pane: one row per node, sortable by any figure, filtered by name/host/state."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.style import Style
from textual import events
from textual.binding import BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip

from gridtui.feeds import MEMORY, RAY, RESERVATIONS, WORK
from gridtui.model.nodes import ClusterSnapshot
from gridtui.model.objects import MemorySnapshot
from gridtui.model.ray import RayClusterView
from gridtui.model.reservations import ReservationsSnapshot
from gridtui.model.work import WorkSnapshot
from gridtui.ui.bridge import follow, latest
from gridtui.ui.format import DASH
from gridtui.ui.widgets.cursor_keys import CURSOR_BINDINGS
from gridtui.ui.widgets.node_columns import (
    COLUMNS,
    TABLE_WIDTH,
    Row,
    matches,
    reserved_text,
)
from gridtui.ui.widgets.node_lines import NodeLines
from gridtui.ui.widgets.shown import WhenShown


class NodesTable(NodeLines, can_focus=True):
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

    BINDINGS: ClassVar[list[BindingType]] = CURSOR_BINDINGS

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
        self.ray_view = latest(self, RAY)
        follow(self, RAY, self.show_ray, now=False)
        follow(self, RESERVATIONS, self.show_reservations)
        follow(self, MEMORY, self.show_memory)
        follow(self, WORK, self.show_work)

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
