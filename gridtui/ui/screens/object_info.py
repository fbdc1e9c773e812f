"""One stored object's details, as `gridtui memory info` prints them."""

from __future__ import annotations

import time
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from gridtui.model.objects import StoredObject, human_age
from gridtui.ui.format import DASH


def info_lines(obj: StoredObject, now: float) -> list[tuple[str, str]]:
    def when(epoch: float) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))

    return [
        ("key", obj.key),
        ("size", f"{obj.size} bytes"),
        ("state", obj.state),
        ("nodes", ", ".join(obj.nodes) or DASH),
        ("replicas", f"{len(obj.nodes)} of {obj.replicas}"),
        ("lost on", ", ".join(obj.lost_nodes) or DASH),
        ("sha256", obj.sha256),
        ("chunks", str(obj.chunks)),
        ("created", when(obj.created)),
        ("last read", when(obj.last_read)),
        ("age", human_age(obj.age(now))),
    ]


class ObjectInfoScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close", tooltip="Back to the dashboard"),
        Binding("enter", "dismiss", "Close", show=False),
    ]

    def __init__(self, obj: StoredObject, now: float) -> None:
        super().__init__()
        self.obj, self.now = obj, now

    def compose(self) -> ComposeResult:
        lines = info_lines(self.obj, self.now)
        body = "\n".join(f"{name + ':':<11}{value}" for name, value in lines)
        with Vertical(id="info-box"):
            yield Label(f"Object {self.obj.key}", id="info-title", markup=False)
            yield Static(body, id="info-body", markup=False)
            yield Label("escape closes", id="info-hint")
