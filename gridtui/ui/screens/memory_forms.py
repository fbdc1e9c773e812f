"""The store and retrieve dialogs: a path with completion, checked as typed, sent by enter."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester, SuggestFromList
from textual.widgets import Checkbox, Input, Label, Static

from gridtui.errors import GridError
from gridtui.model.objects import MemorySnapshot, human_bytes
from gridtui.outfile import effect

Check = Callable[[str, str], Path]
"""The back-end's check of (key, path): the resolved path, or a GridError saying why not."""


def complete_path(value: str) -> str | None:
    """`value` completed as a shell's tab does: the common start of every file and directory
    its last part begins, or the one match (a directory with its slash); hidden entries
    only when a dot was typed. None when nothing more can be added."""
    if not value:
        return None
    head, tail = os.path.split(os.path.expanduser(value))
    try:
        with os.scandir(head or ".") as entries:
            names = sorted(
                e.name + ("/" if e.is_dir() else "")
                for e in entries
                if e.name.startswith(tail) and (tail.startswith(".") or e.name[0] != ".")
            )
    except OSError:
        return None
    if not names:
        return None
    common = names[0]
    for name in names[1:]:
        while not name.startswith(common):
            common = common[:-1]
    pick = common if len(common) > len(tail) else names[0]
    return value + pick[len(tail) :] if pick != tail else None


class PathSuggester(Suggester):
    """Suggests complete_path's completion as the path is typed (a local directory read)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        return complete_path(value)


class PathInput(Input):
    """An Input whose tab takes the completion shown (then moves on when there is none)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "complete", "Complete", show=False, tooltip="Take the path completion"),
    ]

    def action_complete(self) -> None:
        before = self.value
        self.cursor_position = len(self.value)
        self.action_cursor_right()  # takes the suggestion when there is one
        if self.value == before:
            self.screen.focus_next()


@dataclass(frozen=True)
class StoreRequest:
    key: str
    path: Path
    node: str | None = None
    replicas: int = 1
    force: bool = False


@dataclass(frozen=True)
class RetrieveRequest:
    key: str
    path: Path


HELP = "enter sends · tab completes a path · escape cancels"


class MemoryForm(ModalScreen[StoreRequest | RetrieveRequest | None]):
    """Fields, a live error line (nothing is sent while it shows), enter, escape."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip="Close the dialog: nothing is sent"),
    ]

    def __init__(self, check: Check) -> None:
        super().__init__()
        self.check = check
        self.error = ""

    def field(self, name: str) -> str:
        return self.query_one(f"#memory-{name}", Input).value.strip()

    def row(
        self,
        label: str,
        name: str,
        value: str,
        hint: str = "",
        *,
        path: bool = False,
        suggest: Sequence[str] = (),
    ) -> Horizontal:
        field: Input
        if path:
            field = PathInput(value, id=f"memory-{name}", classes="form-input -path")
            field.suggester = PathSuggester()
        else:
            suggester = SuggestFromList(suggest) if suggest else None
            field = Input(value, id=f"memory-{name}", classes="form-input", suggester=suggester)
        return Horizontal(
            Label(label, classes="form-label"),
            field,
            Label(hint, id=f"memory-{name}-hint", classes="form-hint", markup=False),
            classes="form-row",
        )

    def validate_now(self) -> StoreRequest | RetrieveRequest | None:
        try:
            request = self.checked()
        except GridError as exc:
            request, self.error = None, exc.summary.splitlines()[0]
        else:
            self.error = ""
        error = self.query_one("#form-error", Static)
        error.update(self.error)
        error.set_class(bool(self.error), "-error")
        return request

    def checked(self) -> StoreRequest | RetrieveRequest:
        raise NotImplementedError

    @on(Input.Changed)
    @on(Checkbox.Changed)
    def _changed(self) -> None:
        self.validate_now()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        request = self.validate_now()
        if request is None:
            self.app.bell()
            return
        self.dismiss(request)

    def action_cancel(self) -> None:
        self.dismiss(None)


class Invalid(GridError):
    """A field the form itself refuses (replicas, node, an existing key without replace)."""


class StoreForm(MemoryForm):
    """A file to keep under a key; the key follows the file's name until it is typed."""

    def __init__(self, check: Check, memory: MemorySnapshot, path: str = "") -> None:
        super().__init__(check)
        self.memory = memory
        self.path = path
        self._key_typed = False
        self.nodes = [u.node for u in memory.usage if u.alive]

    def compose(self) -> ComposeResult:
        nodes = ", ".join(self.nodes) if self.nodes else "any node with room"
        with Vertical(id="form-box"):
            yield Label("Store a file in the cluster's memory", id="form-title")
            yield self.row("File", "path", self.path, path=True)
            yield self.row("Key", "key", "", "letters, digits and . _ - / : @ + =")
            yield self.row("Node", "node", "", f"empty: most room ({nodes})", suggest=self.nodes)
            yield self.row("Replicas", "replicas", "1", "copies on distinct nodes")
            yield Checkbox("Replace an existing object with this key", id="memory-force")
            yield Static("", id="form-error", markup=False)
            yield Label(HELP, id="form-help", markup=False)

    def on_mount(self) -> None:
        self.validate_now()
        self.query_one("#memory-path", Input).focus()

    @on(Input.Changed, "#memory-path")
    def _path_changed(self, event: Input.Changed) -> None:
        if not self._key_typed:
            key = self.query_one("#memory-key", Input)
            with key.prevent(Input.Changed):
                key.value = Path(event.value.strip()).name if event.value.strip() else ""

    @on(Input.Changed, "#memory-key")
    def _key_changed(self, event: Input.Changed) -> None:
        if event.input.has_focus:
            self._key_typed = True

    def checked(self) -> StoreRequest:
        key = self.field("key")
        path = self.check(key, self.field("path"))
        hint = self.query_one("#memory-path-hint", Label)
        try:
            hint.update(human_bytes(path.stat().st_size) if path.is_file() else "a stream")
        except OSError:
            hint.update("")
        replicas_text = self.field("replicas") or "1"
        # isascii: str.isdigit() is true of any Unicode digit too.
        if not (replicas_text.isascii() and replicas_text.isdigit()) or int(replicas_text) < 1:
            raise Invalid(f"replicas must be a whole number of at least 1, not {replicas_text!r}")
        replicas = int(replicas_text)
        node = self.field("node") or None
        if self.nodes:
            if node is not None and node not in self.nodes:
                raise Invalid(f"no live node {node!r} (one of: {', '.join(self.nodes)})")
            if replicas > len(self.nodes):
                raise Invalid(f"{replicas} replicas but {len(self.nodes)} live nodes")
        force = self.query_one("#memory-force", Checkbox).value
        if not force and any(o.key == key for o in self.memory.objects):
            raise Invalid(f"an object {key!r} exists: tick Replace to overwrite it")
        return StoreRequest(key, path, node, replicas, force)


class RetrieveForm(MemoryForm):
    """Where to write the selected object (gridtui/outfile.py: a file appears whole once
    checked; a device or FIFO is written as the bytes come)."""

    def __init__(self, check: Check, key: str, size: int, path: str) -> None:
        super().__init__(check)
        self.key, self.object_size, self.path = key, size, path

    def compose(self) -> ComposeResult:
        with Vertical(id="form-box"):
            yield Label(
                f"Retrieve {self.key} ({human_bytes(self.object_size)})",
                id="form-title",
                markup=False,
            )
            yield self.row("To file", "path", self.path, path=True)
            yield Static("", id="form-error", markup=False)
            yield Label(HELP, id="form-help", markup=False)

    def on_mount(self) -> None:
        self.validate_now()
        self.query_one("#memory-path", Input).focus()

    def checked(self) -> RetrieveRequest:
        path = self.check(self.key, self.field("path"))
        hint = self.query_one("#memory-path-hint", Label)
        hint.update(effect(path))
        return RetrieveRequest(self.key, path)
