"""Per-node progress of one cluster operation: a bar and a status line per node."""

from __future__ import annotations

from typing import ClassVar, Protocol

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Label, ProgressBar

TERMINAL = frozenset({"ok", "failed", "skipped"})


class StepEvent(Protocol):
    """One step of one node, as the back-end reports it (its NodeProgress)."""

    @property
    def node(self) -> str: ...
    @property
    def step(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def message(self) -> str: ...


class ProgressEvent(Message):
    """One step event from the running operation (posted from its callback)."""

    def __init__(self, event: StepEvent) -> None:
        super().__init__()
        self.event = event


class NodeProgressRow(Horizontal):
    """Steps are known up front (check, start, join...); the bar counts the ones passed."""

    def __init__(self, node: str, steps: tuple[str, ...]) -> None:
        super().__init__(classes="progress-row")
        self.node, self.steps = node, steps
        self.done = 0
        self.position = 0
        self.last: StepEvent | None = None

    def compose(self) -> ComposeResult:
        yield Label(self.node, classes="progress-node", markup=False)
        yield ProgressBar(
            total=len(self.steps), show_eta=False, show_percentage=False, classes="progress-bar"
        )
        yield Label("waiting", classes="progress-status", markup=False)

    def update_from(self, event: StepEvent) -> None:
        # A step can come twice (install checks before and after): search from where we are.
        index = next(
            (i for i in range(self.position, len(self.steps)) if self.steps[i] == event.step),
            self.position,
        )
        self.position = index
        self.last = event
        self.done = max(self.done, index + (1 if event.state in TERMINAL else 0))
        if event.state in TERMINAL:
            self.position = min(index + 1, len(self.steps) - 1)
        self.query_one(ProgressBar).update(progress=self.done)
        status = f"{event.step}: {event.state}" + (f" · {event.message}" if event.message else "")
        self.query_one(".progress-status", Label).update(status)
        self.set_class(event.state == "failed", "-failed")
        self.set_class(event.state in ("ok", "skipped"), "-ok")

    def complete(self, ok: bool) -> None:
        if ok and not self.has_class("-failed"):
            self.query_one(ProgressBar).update(progress=len(self.steps))
        elif not ok and (self.last is None or self.last.state not in TERMINAL):
            # The operation ended while this node was waiting or mid-step: say so, never
            # leave "running" on a view whose work is over.
            status = (
                "not started: the operation ended first"
                if self.last is None
                else f"{self.last.step}: stopped, the operation ended first"
            )
            self.query_one(".progress-status", Label).update(status)
            self.add_class("-stopped")


class ClusterProgressScreen(ModalScreen[None]):
    """Escape hides it; the operation goes on and a notification reports how it ended."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "dismiss",
            "Close",
            tooltip="Hide the progress (the operation goes on; a notification reports the end)",
        ),
    ]

    def __init__(self, title: str, nodes: list[str], steps: tuple[str, ...]) -> None:
        super().__init__()
        self.title_text, self.nodes, self.steps = title, nodes, steps
        self.finished: bool | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="progress-box"):
            yield Label(self.title_text, id="progress-title", markup=False)
            with VerticalScroll(id="progress-rows"):
                for node in self.nodes:
                    yield NodeProgressRow(node, self.steps)
            yield Label("running… escape hides this", id="progress-hint", markup=False)

    def row(self, node: str) -> NodeProgressRow | None:
        return next((r for r in self.query(NodeProgressRow) if r.node == node), None)

    def on_progress_event(self, message: ProgressEvent) -> None:
        row = self.row(message.event.node)
        if row is not None:
            row.update_from(message.event)

    def finish(self, ok: bool, summary: str) -> None:
        self.finished = ok
        for row in self.query(NodeProgressRow):
            row.complete(ok)
        hint = self.query_one("#progress-hint", Label)
        hint.update(("done: " if ok else "failed: ") + summary + " · escape closes")
        hint.set_class(not ok, "-failed")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
