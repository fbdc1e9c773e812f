"""A store or retrieve under way: a bar and its rate over the live dashboard; escape cancels."""

from __future__ import annotations

import threading
import time
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, ProgressBar, Static

from gridtui.model.objects import TransferProgress, human_bytes

REDRAW = 0.1
"""Seconds between two redraws: a transfer reports every chunk, far more often."""


class TransferScreen(ModalScreen[None]):
    """See-through, so the figures under it keep moving. The worker moving the bytes owns
    the outcome and closes this screen; escape only asks it to stop (`cancel`), and the
    screen says so until the transfer has cleaned up."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape", "cancel", "Cancel", tooltip="Cancel the transfer: nothing is left behind"
        ),
    ]

    def __init__(self, title: str, total: int | None) -> None:
        super().__init__()
        self.title_text = title
        self.total = total
        self.cancel = threading.Event()
        self.latest: TransferProgress | None = None
        self.finished = False
        self._closed = False
        self._drawn = 0.0

    def compose(self) -> ComposeResult:
        with Vertical(id="transfer-box"):
            yield Label(self.title_text, id="transfer-title", markup=False)
            yield ProgressBar(total=self.total, show_eta=False, id="transfer-bar")
            yield Static("starting…", id="transfer-figures", markup=False)
            yield Label("escape cancels (nothing is left behind)", id="transfer-hint")

    def show(self, progress: TransferProgress) -> None:
        """Called for every step; drawn at most every REDRAW seconds."""
        self.latest = progress
        now = time.monotonic()
        if now - self._drawn >= REDRAW and self.is_mounted:
            self._drawn = now
            self._draw(progress)

    def _draw(self, p: TransferProgress) -> None:
        bars = self.query(ProgressBar)
        if not bars:
            return  # pushed, not composed yet: the next step draws
        bar = bars.first()
        if p.total is not None:
            bar.update(total=max(1, p.total), progress=p.done)
        of = f" of {human_bytes(p.total)}" if p.total is not None else ""
        text = f"{human_bytes(p.done)}{of} · {human_bytes(p.rate)}/s · {p.elapsed:.1f}s"
        if self.cancel.is_set():
            text += " · cancelling…"
        self.query_one("#transfer-figures", Static).update(text)

    def action_cancel(self) -> None:
        self.cancel.set()
        self.query_one("#transfer-hint", Label).update("cancelling: cleaning up…")
        if self.latest is not None:
            self._draw(self.latest)

    def finish(self) -> None:
        """The transfer is over (done, failed or cancelled and cleaned up): close, now if
        this screen is on top, else as soon as the screens above it are gone."""
        self.finished = True
        # From this screen's own message queue, as a key's dismiss would be: taken down
        # from another task, it can deadlock with callbacks queued on it meanwhile.
        self.call_later(self._close)

    def on_screen_resume(self) -> None:
        if self.finished:
            self._close()

    def _close(self) -> None:
        if self.is_current and not self._closed:
            self._closed = True
            self.dismiss()
