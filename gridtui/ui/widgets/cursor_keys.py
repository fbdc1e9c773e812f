"""The row-cursor keys the line-drawn tables share (the Nodes table, the Work table)."""

from __future__ import annotations

from textual.binding import Binding, BindingType

CURSOR_BINDINGS: list[BindingType] = [
    Binding("up", "cursor_up", "Cursor up", show=False),
    Binding("down", "cursor_down", "Cursor down", show=False),
    Binding("pageup", "page_up", "Page up", show=False),
    Binding("pagedown", "page_down", "Page down", show=False),
    Binding("home", "first", "Home", show=False),
    Binding("end", "last", "End", show=False),
]
