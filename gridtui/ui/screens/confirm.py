"""A yes/no dialog that says exactly what a cluster operation will do before it runs."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses with True only on `y` or the action button; Cancel has the focus, so a
    stray enter never changes the cluster."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", tooltip="Yes: run it"),
        Binding("n", "answer(False)", "No", tooltip="No: change nothing"),
        Binding("escape", "answer(False)", "Cancel", tooltip="Cancel: change nothing"),
    ]

    def __init__(self, title: str, lines: list[str], verb: str) -> None:
        super().__init__()
        self.title_text, self.lines, self.verb = title, lines, verb

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Label(self.title_text, id="confirm-title", markup=False)
            yield Static("\n".join(self.lines), id="confirm-body", markup=False)
            with Horizontal(id="confirm-buttons"):
                yield Button(f"{self.verb} (y)", id="confirm-yes", variant="warning")
                yield Button("Cancel (n)", id="confirm-no")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
