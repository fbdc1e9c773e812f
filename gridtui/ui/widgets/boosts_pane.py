"""The Boosts pane: boosts and shared allocations, live; pending ones spin, lost ones are red."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import Static

from gridtui.feeds import RESERVATIONS
from gridtui.model.reservations import Reservation, ReservationsSnapshot, format_amount
from gridtui.ui.bridge import follow
from gridtui.ui.format import DASH
from gridtui.ui.intents import Intent
from gridtui.ui.readonly import ReadOnlyAware
from gridtui.ui.widgets.shown import WhenShown, looks

if TYPE_CHECKING:
    from gridtui.ui.widgets.reservation_table import ReservationTable

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
SPIN_RATE = 8.0
"""Spinner frames per second, while something is pending (and only then)."""
EMPTY = "no boosts: b on a node requests one, B shares an amount over the cluster"
EMPTY_READ_ONLY = "no boosts (this console is read-only: it cannot request one)"
COLUMNS = ("ID", "Kind", "Node(s)", "Type", "Amount", "Age", "TTL", "State")


def now() -> float:
    """The pane's clock (snapshot tests pin it)."""
    return time.time()


def duration(seconds: float) -> str:
    """`45s`, `3m05s`, `2h01m`: ages and TTLs in at most six cells."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


@dataclass
class BoostIntent(Intent):
    """Boost the selected node, share over the cluster, release (controllers/boosts.py)."""

    op: Literal["form", "quick", "release_newest", "share", "release"]
    rtype: str = ""
    """For `quick`: cpu, gpu or memory."""


class BoostsPane(ReadOnlyAware, Vertical):
    """Redrawn from the newest ReservationsSnapshot, and each second for ages and TTLs;
    only what changed, and only while its screen is on top (WhenShown): the reservations
    poll publishes twice a second, and each redraw under a modal redrew the modal whole."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "r",
            "release_reservation",
            "Release",
            tooltip="Release the selected reservation (asks first)",
        ),
    ]

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.snapshot = ReservationsSnapshot(time=0.0)
        self.rows: list[Reservation] = []
        self._spinner: Timer | None = None
        self._table: ReservationTable | None = None
        self._focus_when_built = False
        self._update = WhenShown(self, self._draw)
        self._hint = EMPTY
        self._drawn_rows: list[tuple[str, tuple[tuple[str, str], ...]]] | None = None
        """What the table shows, (id, looks) per row: unchanged, it is not redrawn."""

    def compose(self) -> ComposeResult:
        yield Static(EMPTY, id="boosts-empty", markup=False)

    def on_mount(self) -> None:
        self.border_title = "3 Boosts & allocations"
        self._update.attach()
        follow(self, RESERVATIONS, self.show)
        self.set_interval(1.0, self._redraw)
        self.call_after_refresh(self._build)

    async def _build(self) -> None:
        """The table after the first frame: DataTable's import, CSS and layout cost ~40 ms
        there, and it starts empty (the hint stands in for it until a reservation comes)."""
        from gridtui.ui.widgets.reservation_table import ReservationTable

        if not self.is_attached:  # the app closed before its first frame
            return
        table = ReservationTable(id="boosts-table", cursor_type="row", zebra_stripes=True)
        table.add_columns(*COLUMNS)
        table.display = bool(self.rows)
        await self.mount(table, before=0)
        if not table.is_mounted:  # the app closed meanwhile
            return
        self._table = table
        self._redraw()
        if self._focus_when_built:
            table.focus()

    PALETTE: ClassVar[dict[str, str]] = {
        "release_reservation": "Release the selected reservation",
    }

    def action_release_reservation(self) -> None:
        self.post_message(BoostIntent("release"))

    def take_focus(self) -> None:
        self.focus_table()

    def open_selected(self) -> bool:
        self.show_detail()
        return True

    def focus_table(self) -> None:
        """The digit 3: the table gets the focus, now or as soon as it is built."""
        if self._table is None:
            self._focus_when_built = True
        else:
            self._table.focus()

    @property
    def table(self) -> ReservationTable:
        """The rows' table; only from the frame after the first (NoMatches before)."""
        return cast("ReservationTable", self.query_one("#boosts-table"))

    @property
    def current(self) -> Reservation | None:
        """The reservation under the cursor."""
        row = self._table.cursor_row if self._table is not None else -1
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def show(self, snapshot: ReservationsSnapshot) -> None:
        """The newest snapshot; `rows` follow it when it is drawn (those on screen)."""
        self.snapshot = snapshot
        pending = any(r.state == "pending" for r in snapshot.reservations)
        if pending and self._spinner is None:
            self._spinner = self.set_interval(1 / SPIN_RATE, self._redraw)
        elif not pending and self._spinner is not None:
            self._spinner.stop()
            self._spinner = None
        self._redraw()

    def show_detail(self) -> None:
        """Enter: everything the pane has no room for, as one notification."""
        r = self.current
        if r is None:
            self.notify("No reservation selected", severity="warning")
            return
        lines = [f"{r.kind} {r.id}: {format_amount(r.type, r.amount)} on {r.node or DASH}"]
        lines += [f"{b.node}: {format_amount(r.type, b.amount)}" for b in r.bundles[1:]]
        for label, value in (("strategy", r.strategy), ("why", r.reason), ("owner", r.owner),
                             ("placement group", r.pg_name), ("note", r.note),
                             ("pending", r.waiting)):  # fmt: skip
            if value:
                lines.append(f"{label}: {value}")
        self.notify("\n".join(lines), title=f"{r.kind} {r.id} · {r.state_at(now())}")

    def _redraw(self) -> None:
        self._update()

    def _draw(self) -> bool:
        """Whether the table was there to draw (WhenShown). A hint or a row that reads
        the same is not touched: a Static's update costs a layout of the whole screen."""
        table = self._table
        hint = self.query_one("#boosts-empty", Static)
        self.rows = sorted(self.snapshot.reservations, key=lambda r: r.created, reverse=True)
        empty = not self.rows
        if hint.display != empty:
            hint.display = empty
        if empty:
            # Redrawn each second, so a read-only set by the file once read shows soon.
            text = EMPTY_READ_ONLY if getattr(self.app, "read_only", False) else EMPTY
            if not self.snapshot.connected and self.snapshot.message:
                text = f"{self.snapshot.message}\n{text}"
            if text != self._hint:
                self._hint = text
                hint.update(text)
        if table is None:
            return False
        if table.display == empty:
            table.display = not empty
        at = now()
        cells = [self._cells(table, r, at) for r in self.rows]
        drawn = [(r.id, looks(c)) for r, c in zip(self.rows, cells, strict=True)]
        if drawn == self._drawn_rows:
            return True
        before, at_row = self._drawn_rows or [], table.cursor_row
        keep = before[at_row][0] if 0 <= at_row < len(before) else None
        self._drawn_rows = drawn
        table.clear()
        for r, row in zip(self.rows, cells, strict=True):
            table.add_row(*row, key=r.id)
        ids = [r.id for r in self.rows]
        if keep in ids:
            table.move_cursor(row=ids.index(keep), animate=False)
        return True

    def _cells(self, table: ReservationTable, r: Reservation, at: float) -> list[Text]:
        state = r.state_at(at)
        style = table.get_component_rich_style(f"reservation-table--{state}", partial=True)
        label = state
        if state == "pending":
            label = f"{SPINNER[int(at * SPIN_RATE) % len(SPINNER)]} pending"
        ttl = r.ttl_left(at)
        texts = (
            r.id,
            r.kind,
            r.node or DASH,
            r.type,
            format_amount(r.type, r.amount),
            duration(at - r.created),
            DASH if ttl is None else duration(ttl),
        )
        cells = [Text(t, style=style if state == "lost" else "") for t in texts]
        return [*cells, Text(label, style=style)]
