"""The Memory objects pane: what the memory store holds, and each node's use as a bar."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import DataTable, Static

from gridtui.feeds import MEMORY
from gridtui.model.objects import MemorySnapshot, ShardUsage, StoredObject, human_age
from gridtui.model.units import size
from gridtui.ui.bridge import follow
from gridtui.ui.format import DASH
from gridtui.ui.intents import Intent
from gridtui.ui.readonly import ReadOnlyAware
from gridtui.ui.widgets.shown import WhenShown, looks

EMPTY = "no objects: s stores a file"
COLUMNS = ("Key", "Size", "Nodes", "Rep", "Age", "State")
KEY_WIDTH = 18
"""Longer keys are cut with an ellipsis in the table; enter shows the whole key."""
WARN, HOT = 0.75, 0.9
"""Shares of a node's capacity where its bar turns to warning, then error colours."""


def short_key(key: str) -> str:
    return key if len(key) <= KEY_WIDTH else key[: KEY_WIDTH - 1] + "…"


class ObjectTable(DataTable[Text]):
    """One row per object; a lost one is drawn in the error colour (a component class)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = DataTable.COMPONENT_CLASSES | {
        "object-table--lost",
    }


class UsageBars(Widget):
    """One line per node: stored (and reserved by stores under way) against its capacity."""

    DEFAULT_CSS = """
    UsageBars { height: auto; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "usage-bars--name",
        "usage-bars--low",
        "usage-bars--warn",
        "usage-bars--hot",
        "usage-bars--reserved",
        "usage-bars--track",
        "usage-bars--dead",
    }

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.usage: tuple[ShardUsage, ...] = ()

    def show(self, usage: tuple[ShardUsage, ...]) -> None:
        if usage != self.usage:
            self.usage = usage
            self.refresh(layout=True)

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return len(self.usage)

    def render(self) -> RenderResult:
        width = self.size.width
        name_width = min(12, max((len(u.node) for u in self.usage), default=4))
        text = Text(no_wrap=True, overflow="ellipsis")
        for i, u in enumerate(self.usage):
            figure = f"{size(u.used + u.reserved)}/{size(u.capacity)}"
            bar_width = max(4, width - name_width - len(figure) - 2)
            if i:
                text.append("\n")
            text.append(f"{u.node[:name_width]:<{name_width}} ", self._style("name"))
            text.append_text(self._bar(u, bar_width))
            text.append(f" {figure}", self._style("dead") if not u.alive else "")
        return text

    def _bar(self, u: ShardUsage, width: int) -> Text:
        cap = max(1, u.capacity)
        used = min(width, round(width * u.used / cap))
        reserved = min(width - used, round(width * u.reserved / cap))
        share = (u.used + u.reserved) / cap
        kind = "hot" if share >= HOT else "warn" if share >= WARN else "low"
        if not u.alive:
            kind = "dead"
        bar = Text()
        bar.append("█" * used, self._style(kind))
        bar.append("▒" * reserved, self._style("reserved"))
        bar.append("░" * (width - used - reserved), self._style("track"))
        return bar

    def _style(self, name: str) -> str:
        return str(self.get_component_rich_style(f"usage-bars--{name}", partial=True))


@dataclass
class MemoryIntent(Intent):
    """Store, retrieve, delete or tell all of an object (controllers/memory.py)."""

    op: Literal["store", "retrieve", "delete", "info"]


class MemoryPane(ReadOnlyAware, Vertical):
    """Redrawn from each MemorySnapshot the memory poll publishes (every two seconds, and
    at once after a store or delete); ages are the cluster's, as of the snapshot."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "memory_store", "Store", tooltip="Store a file under a key"),
        Binding(
            "r",
            "memory_retrieve",
            "Retrieve",
            tooltip="Write the selected object to a file",
        ),
        Binding("d", "memory_delete", "Delete", tooltip="Delete the selected object (asks)"),
    ]
    # One action per key, so the read-only console can tell a store or delete (changes the
    # cluster) from a retrieve; declared here, with the keys (ui/readonly.py gathers them).
    CHANGES_CLUSTER: ClassVar[frozenset[str]] = frozenset({"memory_store", "memory_delete"})
    # A retrieve writes a local file: it changes nothing in the cluster.
    LOOKS_ONLY: ClassVar[frozenset[str]] = frozenset({"memory_retrieve"})
    PALETTE: ClassVar[dict[str, str]] = {
        "memory_store": "Store a file in the cluster's memory…",
        "memory_retrieve": "Retrieve the selected stored object…",
        "memory_delete": "Delete the selected stored object",
    }
    """The command palette's titles for these keys (the footer's words are too short)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.snapshot = MemorySnapshot((), (), 0.0)
        self.rows: list[StoredObject] = []
        """The objects the table shows, in its order."""
        self._update = WhenShown(self, self._draw)
        self._hint = EMPTY
        self._drawn: list[tuple[str, tuple[tuple[str, str], ...]]] | None = None

    def compose(self) -> ComposeResult:
        table = ObjectTable(id="memory-table", cursor_type="row", zebra_stripes=True)
        table.add_columns(*COLUMNS)
        yield table
        yield Static(EMPTY, id="memory-empty", markup=False)
        yield UsageBars(id="memory-usage")

    def on_mount(self) -> None:
        self.border_title = "4 Memory objects"
        self._update.attach()
        follow(self, MEMORY, self.show)

    def action_memory_store(self) -> None:
        self.post_message(MemoryIntent("store"))

    def action_memory_retrieve(self) -> None:
        self.post_message(MemoryIntent("retrieve"))

    def action_memory_delete(self) -> None:
        self.post_message(MemoryIntent("delete"))

    def take_focus(self) -> None:
        self.table.focus()

    def open_selected(self) -> bool:
        self.post_message(MemoryIntent("info"))
        return True

    @property
    def table(self) -> ObjectTable:
        return self.query_one(ObjectTable)

    @property
    def current(self) -> StoredObject | None:
        """The object under the cursor."""
        row = self.table.cursor_row
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def show(self, snapshot: MemorySnapshot) -> None:
        """The newest listing: drawn now, or when the pane's screen is on top again."""
        self.snapshot = snapshot
        self._update()

    def _draw(self) -> bool:
        """Only what changed: a Static's update, a table's rebuild, even a title set to the
        same words, each redraws the screen (and a modal over it, whole)."""
        snapshot = self.snapshot
        keep = self.current.key if self.current is not None else None
        self.rows = sorted(snapshot.objects, key=lambda o: o.key)
        table = self.table
        empty = not self.rows
        if table.display == empty:
            table.display = not empty
        hint = self.query_one("#memory-empty", Static)
        if hint.display != empty:
            hint.display = empty
        text = f"{snapshot.message}\n{EMPTY}" if snapshot.message else EMPTY
        if text != self._hint:
            self._hint = text
            hint.update(text)
        lost = table.get_component_rich_style("object-table--lost", partial=True)
        cells = [self._cells(o, snapshot.taken, lost) for o in self.rows]
        drawn = [(o.key, looks(c)) for o, c in zip(self.rows, cells, strict=True)]
        if drawn != self._drawn:
            self._drawn = drawn
            table.clear()
            for o, row in zip(self.rows, cells, strict=True):
                table.add_row(*row, key=o.key)
            keys = [o.key for o in self.rows]
            if keep in keys:
                table.move_cursor(row=keys.index(keep), animate=False)
        self.query_one(UsageBars).show(snapshot.usage)
        total = sum(o.size for o in self.rows)
        title = "4 Memory objects"
        if self.rows:
            title += f" {len(self.rows)} · {size(total)}"
        if title != self.border_title:
            self.border_title = title
        return True

    @staticmethod
    def _cells(o: StoredObject, now: float, lost: object) -> list[Text]:
        style = str(lost) if o.state == "lost" else ""
        texts = (
            short_key(o.key),
            size(o.size),
            ",".join(o.nodes) or DASH,
            f"{len(o.nodes)}/{o.replicas}",
            human_age(o.age(now)),
            o.state,
        )
        return [Text(t, style=style) for t in texts]
