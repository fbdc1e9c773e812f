"""The memory keys: a dialog -> one ConsoleMemory call in a worker -> one line said."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.worker import Worker

from gridtui.model.objects import StoredObject, human_bytes
from gridtui.ui.access import grid_app
from gridtui.ui.intents import Intent
from gridtui.ui.screens.confirm import ConfirmScreen
from gridtui.ui.screens.memory_forms import RetrieveForm, RetrieveRequest, StoreForm, StoreRequest
from gridtui.ui.screens.object_info import ObjectInfoScreen
from gridtui.ui.widgets.memory_pane import MemoryIntent, MemoryPane
from gridtui.ui.widgets.transfer_panel import TransferPanel

if TYPE_CHECKING:
    from gridtui.backend import ConsoleMemory
    from gridtui.ui.screens.main import MainScreen

GROUP = "memory"
Transfer = Callable[[TransferPanel], Awaitable[StoredObject | None]]


class MemoryController:
    """Held by the MainScreen; its workers belong to the screen, so their failures reach
    the app's one handler (a one-line notification) through the screen."""

    TAKES: ClassVar[type[Intent]] = MemoryIntent

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.running: TransferPanel | None = None
        """The transfer under way: one at a time, its panel docked on the screen."""

    def handle(self, intent: MemoryIntent) -> None:
        """A Memory pane key: store, retrieve, delete, or enter's info."""
        {
            "store": self.store,
            "retrieve": self.retrieve,
            "delete": self.delete,
            "info": self.info,
        }[intent.op]()

    def _memory(self) -> ConsoleMemory | None:
        app = grid_app(self.screen)
        memory = app.backend.memory if app.ready else None
        if memory is None:
            self.screen.notify("Ray is not connected yet: no memory store", severity="warning")
        return memory

    def _selected(self) -> StoredObject | None:
        obj = self.screen.query_one(MemoryPane).current
        if obj is None:
            self.screen.notify("No object selected (s stores one)", severity="warning")
        return obj

    # -- store and retrieve: a dialog, then the bytes move in a worker under a progress bar ----

    def _busy(self) -> bool:
        """A second transfer is refused while one runs: its panel is the only way to stop it."""
        if self.running is not None:
            self.screen.notify("a transfer is already running", severity="warning")
        return self.running is not None

    async def open_panel(self, title: str, total: int | None) -> TransferPanel:
        """The progress panel, docked above the footer of the dashboard's own screen."""
        return await self._mount(TransferPanel(title, total))

    async def _mount(self, shown: TransferPanel) -> TransferPanel:
        self.running = shown
        await self.screen.mount(shown)
        return shown

    def close_panel(self, shown: TransferPanel) -> None:
        shown.finish()
        if self.running is shown:
            self.running = None

    def store(self) -> None:
        if self._busy():
            return
        memory = self._memory()
        if memory is None:
            return
        app = grid_app(self.screen)

        def submitted(request: StoreRequest | RetrieveRequest | None) -> None:
            if not isinstance(request, StoreRequest):
                return
            r = request
            try:
                total: int | None = r.path.stat().st_size if r.path.is_file() else None
            except OSError:
                total = None

            async def work(shown: TransferPanel) -> StoredObject | None:
                return await memory.store(
                    r.key, r.path, node=r.node, replicas=r.replicas, force=r.force,
                    progress=shown.show, cancel=shown.cancel,
                )  # fmt: skip

            self._transfer(f"Storing {r.path.name} as {r.key}", total, work, r.key, "Store")

        app.push_screen(StoreForm(app.backend.check_store, app.memory), submitted)

    def retrieve(self) -> None:
        if self._busy():
            return
        memory = self._memory()
        obj = self._selected() if memory is not None else None
        if memory is None or obj is None:
            return
        app = grid_app(self.screen)

        def submitted(request: StoreRequest | RetrieveRequest | None) -> None:
            if not isinstance(request, RetrieveRequest):
                return
            r = request

            async def work(shown: TransferPanel) -> StoredObject | None:
                return await memory.retrieve(
                    r.key, r.path, progress=shown.show, cancel=shown.cancel
                )

            title = f"Retrieving {r.key} to {r.path}"
            self._transfer(title, obj.size, work, r.key, "Retrieve", r.path)

        default = str(Path.cwd() / (Path(obj.key).name or "object"))
        form = RetrieveForm(app.backend.check_retrieve, obj.key, obj.size, default)
        app.push_screen(form, submitted)

    def _transfer(
        self,
        title: str,
        total: int | None,
        work: Transfer,
        key: str,
        verb: str,
        path: Path | None = None,
    ) -> Worker[None] | None:
        if self._busy():
            return None
        # Claimed now, not when the worker starts: a key pressed in between is refused.
        shown = self.running = TransferPanel(title, total)

        async def run() -> None:
            try:
                await self._mount(shown)
                obj = await work(shown)
            finally:
                self.close_panel(shown)
            if obj is None:
                left = "nothing was stored" if verb == "Store" else "no file was written"
                self.screen.notify(f"{verb} of {key} cancelled: {left}", title=verb)
                return
            p = shown.latest
            rate = f" at {human_bytes(p.rate)}/s" if p is not None and p.elapsed > 0 else ""
            where = f" -> {path}" if path is not None else f" on {', '.join(obj.nodes)}"
            self.screen.notify(
                f"{verb}d {obj.key} ({human_bytes(obj.size)}){where}{rate}", title=verb
            )

        return self.screen.run_worker(run(), name=verb, group=GROUP, exit_on_error=False)

    # -- delete and details ----------------------------------------------------------------

    def delete(self) -> None:
        memory = self._memory()
        obj = self._selected() if memory is not None else None
        if memory is None or obj is None:
            return

        async def go() -> None:
            gone = await memory.delete(obj.key)
            self.screen.notify(f"Deleted {gone.key} ({human_bytes(gone.size)})", title="Delete")

        def answered(yes: bool | None) -> None:
            if yes:
                self.screen.run_worker(go(), name="Delete", group=GROUP, exit_on_error=False)

        where = ", ".join(obj.nodes) or "no live node"
        lines = [
            f"{obj.key}: {human_bytes(obj.size)} on {where}.",
            "Every replica goes and its memory is freed; this cannot be undone.",
        ]
        self.screen.app.push_screen(ConfirmScreen(f"Delete {obj.key}?", lines, "Delete"), answered)

    def info(self) -> None:
        obj = self._selected()
        if obj is not None:
            now = grid_app(self.screen).memory.taken
            self.screen.app.push_screen(ObjectInfoScreen(obj, now))
