"""Redraw a pane only while its screen is on top (then it catches up), and only what changed."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rich.text import Text
from textual.screen import Screen
from textual.widget import Widget


def on_top(widget: Widget) -> bool:
    """Whether the widget's screen is the one the user is looking at (no modal above it)."""
    try:
        return widget.screen.is_active
    except Exception:  # not mounted (yet or any more): nothing to draw on
        return False


def looks(cells: Iterable[Text]) -> tuple[tuple[str, str], ...]:
    """How cells read and are styled: equal looks need no redraw (rich's Text equality
    ignores the base style, which colours a lost row)."""
    return tuple((t.plain, str(t.style)) for t in cells)


class WhenShown:
    """Runs a pane's redraw now if its screen is on top, else once when it is again.

    `redraw` returns whether it drew the pane's content: until it has, it is never held
    back, so a screen pushed at once over a new pane does not leave it empty below.

    A screen under a modal is still drawn, and every change to it makes the compositor
    draw the modal over it again: redrawing it on each snapshot cost 2.5x the main screen
    alone (bench/idle_cost.py). Attach it in the pane's on_mount."""

    def __init__(self, widget: Widget, redraw: Callable[[], bool]) -> None:
        self._widget = widget
        self._redraw = redraw
        self._drawn = False
        self.waiting = False

    def attach(self) -> None:
        self._widget.app.screen_change_signal.subscribe(self._widget, self._screen_changed)

    def __call__(self) -> None:
        if self._drawn and not on_top(self._widget):
            self.waiting = True
            return
        self.waiting = False
        self._drawn = self._redraw() or self._drawn

    def _screen_changed(self, screen: Screen[object]) -> None:
        if self.waiting and on_top(self._widget) and screen is self._widget.screen:
            self.waiting = False
            self._drawn = self._redraw() or self._drawn
