"""The Offload events pane: what auto-offload did and why, newest first."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from gridtui.model.offload import OffloadEvent
from gridtui.model.offload_view import OffloadSnapshot
from gridtui.ui.feeds import feeds
from gridtui.ui.format import clock
from gridtui.ui.widgets.panes import Pane

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
    """Redrawn from each OffloadSnapshot; enter or O opens the Offload view."""

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

    def compose(self) -> ComposeResult:
        yield Static(id="offload-state", markup=False)
        yield Static(id="offload-events")

    def on_mount(self) -> None:
        source = feeds(self.app)
        self.show(source.offload)
        source.offload_signal.subscribe(self, self.show)

    @property
    def events(self) -> tuple[OffloadEvent, ...]:
        return self.snapshot.events

    def show(self, snapshot: OffloadSnapshot) -> None:
        self.snapshot = snapshot
        self.query_one("#offload-state", Static).update(state_line(snapshot))
        body = self.query_one("#offload-events", Static)
        if not snapshot.events:
            body.update(Text(EMPTY, style=self._style("muted")))
            return
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

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"offload-pane--{name}", partial=True)
