"""The job submit form: command, node or strategy, resources; checked live, sent by enter."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, Static

from gridtui.errors import GridError

FIELDS = ("command", "node", "strategy", "cpu", "gpu", "memory")
HELP = (
    "enter submits · escape cancels · a node or a strategy (not both; neither: Ray places "
    "it) · cpu/gpu/memory: what the entrypoint itself holds"
)
Check = Callable[..., Any]
"""Backend.check_job: the form's texts in, a JobRequest out, or a GridError (one line)."""


class JobForm(ModalScreen[Any]):
    """Dismisses with the checked JobRequest, or None. The same check as `gridtui job
    submit` runs on every keystroke: the first problem shows under the fields and enter
    is refused until it is gone (as the boost form does)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip="Close the form: nothing is submitted"),
    ]

    def __init__(
        self, check: Check, nodes: Sequence[str], strategies: Sequence[str], node: str = ""
    ) -> None:
        super().__init__()
        self.check, self.nodes, self.strategies, self.node = check, nodes, strategies, node
        self.error = ""

    def _row(
        self, label: str, name: str, value: str, hint: str, suggest: Sequence[str] = ()
    ) -> Horizontal:
        suggester = SuggestFromList(suggest) if suggest else None
        classes = "form-input -path" if name == "command" else "form-input"
        return Horizontal(
            Label(label, classes="form-label"),
            Input(value, id=f"job-{name}", classes=classes, suggester=suggester),
            Label(hint, id=f"job-{name}-hint", classes="form-hint", markup=False),
            classes="form-row",
        )

    def compose(self) -> ComposeResult:
        with Vertical(id="form-box"):
            yield Label("Submit a job (Ray Jobs)", id="form-title")
            yield self._row("Command", "command", "", "as in a shell")
            yield self._row("Node", "node", self.node, ", ".join(self.nodes), self.nodes)
            yield self._row("Strategy", "strategy", "", ", ".join(self.strategies), self.strategies)
            yield self._row("CPU", "cpu", "", "e.g. 1 (empty: 0)")
            yield self._row("GPU", "gpu", "", "e.g. 1 (empty: 0)")
            yield self._row("Memory", "memory", "", "e.g. 2GiB (empty: 0)")
            yield Static("", id="form-error", markup=False)
            yield Label(HELP, id="form-help", markup=False)

    def field(self, name: str) -> str:
        return self.query_one(f"#job-{name}", Input).value.strip()

    def validate_now(self) -> Any:
        """Check every field; the first problem shows under them (and blocks enter)."""
        texts = {name: self.field(name) for name in FIELDS}
        try:
            checked = self.check(texts.pop("command"), **texts)
            self.error = ""
        except GridError as exc:
            checked, self.error = None, exc.summary.splitlines()[0]
        error = self.query_one("#form-error", Static)
        error.update(self.error or f"ready: {checked.entrypoint}")
        error.set_class(bool(self.error), "-error")
        return checked

    def on_mount(self) -> None:
        self.validate_now()
        self.query_one("#job-command", Input).focus()

    @on(Input.Changed)
    def _changed(self) -> None:
        self.validate_now()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        checked = self.validate_now()
        if checked is None:
            self.app.bell()
            return
        self.dismiss(checked)

    def action_cancel(self) -> None:
        self.dismiss(None)
