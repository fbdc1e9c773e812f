"""A store or retrieve under way: a bar and its rate docked under the dashboard; escape cancels."""

from __future__ import annotations

import threading
import time
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Label, ProgressBar, Static

from gridtui.model.objects import TransferProgress, human_bytes
from gridtui.ui.widgets.shown import WhenShown

REDRAW = 0.25
"""Seconds between two redraws: a transfer reports every chunk, far more often, and each
redraw costs a partial update of the dashboard beneath the panel (bench/overlays.py)."""


class TransferPanel(Vertical):
    """On the dashboard's own screen, not a screen above it: under any screen on top, each
    update of the one beneath made Textual redraw both whole (120-290 ms a frame here,
    bench/memory_console_stall.py); on the same screen the sparklines stay partial updates.

    The worker moving the bytes owns the outcome and takes this panel down (`finish`);
    escape (the screen's priority key, so whatever has the focus) only asks it to stop
    (`cancel`), and the panel says so until the transfer has cleaned up."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # Documents the key (help, docs/keys.md); MainScreen's priority escape runs it.
        Binding(
            "escape", "cancel", "Cancel", tooltip="Cancel the transfer: nothing is left behind"
        ),
    ]

    class Finished(Message):
        """Posted to the screen as the panel goes: its keys and layout may change."""

    def __init__(self, title: str, total: int | None) -> None:
        super().__init__(id="transfer-box")
        self.title_text = title
        self.total = total
        self.cancel = threading.Event()
        self.latest: TransferProgress | None = None
        self.finished = False
        self._drawn = 0.0
        self._figures = "starting…"
        self._update = WhenShown(self, self._draw_latest)

    def on_mount(self) -> None:
        self._update.attach()

    def compose(self) -> ComposeResult:
        with Horizontal(id="transfer-head"):
            yield Label(self.title_text, id="transfer-title", markup=False)
            yield Label("escape cancels (nothing is left behind)", id="transfer-hint")
        with Horizontal(id="transfer-line"):
            # A stream's size is unknown: Textual's bar would animate 15 times a second
            # (hidden too) to say only that; the figures say how much came so far.
            if self.total is not None:
                yield ProgressBar(total=self.total, show_eta=False, id="transfer-bar")
            yield Static("starting…", id="transfer-figures", markup=False)

    def show(self, progress: TransferProgress) -> None:
        """Called for every step; drawn at most every REDRAW seconds, and only while the
        dashboard is on top (a screen over it would be redrawn whole each time)."""
        self.latest = progress
        now = time.monotonic()
        if now - self._drawn >= REDRAW and self.is_mounted and not self.finished:
            self._drawn = now
            self._update()

    def _draw_latest(self) -> bool:
        if self.latest is None or self.finished:
            return False
        return self._draw(self.latest)

    def _draw(self, p: TransferProgress) -> bool:
        figures = self.query("#transfer-figures")
        if not figures:
            return False  # mounted, not composed yet: the next step draws
        if p.total is not None:
            for bar in self.query(ProgressBar):
                bar.update(total=max(1, p.total), progress=p.done)
        of = f" of {human_bytes(p.total)}" if p.total is not None else ""
        text = f"{human_bytes(p.done)}{of} · {human_bytes(p.rate)}/s · {p.elapsed:.0f}s"
        if self.cancel.is_set():
            text += " · cancelling…"
        if text != self._figures:
            # A width of its own: the screen is laid out again only when that changes.
            layout = len(text) != len(self._figures)
            self._figures = text
            figures.first(Static).update(text, layout=layout)
        return True

    def action_cancel(self) -> None:
        self.cancel.set()
        if not self.is_mounted or self.finished:
            return
        self.query_one("#transfer-hint", Label).update("cancelling: cleaning up…")
        if self.latest is not None:
            self._draw(self.latest)

    def finish(self) -> None:
        """The transfer is over (done, failed or cancelled and cleaned up): the panel goes."""
        if self.finished:
            return
        self.finished = True
        if self.is_attached:
            self.screen.post_message(self.Finished())
            self.remove()
