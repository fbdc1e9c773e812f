"""The Offload events pane: what auto-offload did and why, newest first."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from gridtui.feeds import OFFLOAD
from gridtui.model.offload import OffloadEvent
from gridtui.model.offload_view import OffloadSnapshot
from gridtui.ui.access import grid_app
from gridtui.ui.bridge import follow
from gridtui.ui.format import clock
from gridtui.ui.widgets.panes import Pane
from gridtui.ui.widgets.shown import WhenShown

EMPTY = "no offload events: O opens the Offload view (A turns auto-offload on)"
SHOWN = 100
"""Events drawn; the view and `gridtui offload events` have the rest."""


def state_line(snap: OffloadSnapshot) -> str:
    """`auto-offload on (dry run) · fenced: ws`, or why nothing is known."""
    if snap.policy is None:
        return snap.message or "auto-offload: not read yet"
    p = snap.policy
    text = "auto-offload " + ("on" + (" (dry run)" if p.dry_run else "") if p.enabled else "off")
    if snap.fenced:
        text += f" · fenced: {', '.join(snap.fenced)}"
    if not snap.connected and snap.message:
        text += f" · {snap.message}"
    return text


class OffloadPane(Pane):
    """Redrawn from each OffloadSnapshot, when it changes what the pane says and while its
    screen is on top (WhenShown); enter or O opens the Offload view."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "offload-pane--fence",
        "offload-pane--unfence",
        "offload-pane--spill",
        "offload-pane--failed",
        "offload-pane--muted",
    }

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("5 Offload events", id=id, classes=classes)
        self.snapshot = OffloadSnapshot(0.0)
        self._update = WhenShown(self, self._draw)
        self._drawn: tuple[object, ...] | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="offload-state", markup=False)
        yield Static(id="offload-events")

    def on_mount(self) -> None:
        self._update.attach()
        follow(self, OFFLOAD, self.show)

    def open_selected(self) -> bool:
        grid_app(self).open_offload()
        return True

    @property
    def events(self) -> tuple[OffloadEvent, ...]:
        return self.snapshot.events

    def show(self, snapshot: OffloadSnapshot) -> None:
        self.snapshot = snapshot
        self._update()

    def _draw(self) -> bool:
        snapshot = self.snapshot
        styles = tuple(self._style(k) for k in ("muted", "fence", "unfence", "spill", "failed"))
        drawn = (state_line(snapshot), snapshot.events[:SHOWN], styles)
        if drawn == self._drawn:
            return True  # the same words: a Static's update would lay the screen out again
        self._drawn = drawn
        self.query_one("#offload-state", Static).update(drawn[0])
        body = self.query_one("#offload-events", Static)
        if not snapshot.events:
            body.update(Text(EMPTY, style=self._style("muted")))
            return True
        table = Table.grid(padding=(0, 1))
        table.add_column(no_wrap=True)
        table.add_column(overflow="fold")
        for e in snapshot.events[:SHOWN]:
            kind = "failed" if e.result.startswith("failed") else e.action
            outcome, _, detail = e.result.partition(":")
            what = Text(f"{e.node} ")
            what.append(e.action, style=self._style(kind))
            what.append(f" {outcome.strip()}\n{e.trigger.describe()}")
            if detail.strip():
                what.append(f" · {detail.strip()}")
            table.add_row(Text(clock(e.time), style=self._style("muted")), what)
        body.update(table)
        return True

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"offload-pane--{name}", partial=True)
