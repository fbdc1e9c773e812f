"""The `?` overlay: every key, generated from the bindings so it cannot drift from them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from gridtui.ui.readonly import changes_cluster


def own_bindings(owner: type[DOMNode]) -> list[Binding]:
    """The bindings a class declares itself (not those inherited from Textual)."""
    return list(Binding.make_bindings(owner.__dict__.get("BINDINGS", [])))


REFUSED = " (not in a read-only console)"
"""Said after each key a read-only console refuses, in its help and in docs/keys.md."""


def action_text(binding: Binding, *, read_only: bool = False) -> str:
    """What a key does, in the help and docs/keys.md."""
    what = binding.tooltip or binding.description
    return what + REFUSED if read_only and changes_cluster(binding.action) else what


Section = tuple[str, type[DOMNode], frozenset[str] | None]


def key_rows(app: App[Any], sections: Iterable[Section]) -> list[tuple[str, str, str]]:
    """(where, key, what) for every described binding, in declaration order.

    A section may name the keys it keeps: Textual's own widgets declare more than we use.
    In a read-only console, the keys it refuses say so.
    """
    rows: list[tuple[str, str, str]] = []
    for where, owner, keys in sections:
        for binding in own_bindings(owner):
            if not binding.description or (keys is not None and binding.key not in keys):
                continue
            what = action_text(binding, read_only=getattr(app, "read_only", False))
            rows.append((where, app.get_key_display(binding), what))
    return rows


class HelpScreen(ModalScreen[None]):
    """A modal over whatever screen was showing; any of its keys closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close help"),
        Binding("question_mark", "dismiss", "Close help", show=False),
    ]

    def __init__(self, rows: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Label("gridtui keys", id="help-title")
            yield DataTable(id="help-keys", cursor_type="none", zebra_stripes=True)
            yield Label("escape or ? closes this help", id="help-hint")

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()

    def on_resize(self) -> None:
        """Sized to the terminal: every action's words shown whole, wrapped when narrow."""
        table = self.query_one(DataTable)
        table.clear(columns=True)
        where = max((len(w) for w, _, _ in self.rows), default=5)
        key = max((len(k) for _, k, _ in self.rows), default=3)
        what = max((len(a) for _, _, a in self.rows), default=6)
        # The box's border and padding (4), each column's cell padding (2 each), a scrollbar.
        room = self.size.width - 4 - 3 * 2 - 2 - where - key
        # The box may take 90% of the height (gridtui.tcss); its title, hint and borders take
        # 4 rows of that, and the table scrolls within the rest (not under the screen's edge).
        table.styles.max_height = max(5, self.size.height * 9 // 10 - 4)
        table.add_column("Where", width=where)
        table.add_column("Key", width=key)
        table.add_column("Action", width=max(16, min(what, room)))
        for w, k, a in self.rows:
            table.add_row(Text(w), Text(k), Text(a), height=None)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
