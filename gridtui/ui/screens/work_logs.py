"""A job's or an actor's output, followed live until it ends or the screen closes."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Label, Log
from textual.worker import Worker

from gridtui.errors import GridError, one_line
from gridtui.ui.access import grid_app
from gridtui.ui.textual_private import QuietBeneath

Stream = Callable[[threading.Event], Iterator[str]]
"""A job's output (WorkService.follow): blocking, run on a thread, ends with the job."""
Poll = Callable[[], Awaitable[str]]
"""An actor's output so far (WorkService.actor_log): read again every `interval`."""
MAX_LINES = 5000


class WorkLogScreen(QuietBeneath[None]):
    """Either a `stream` (a job: Ray's tail, or its log file on this machine) read on a
    thread that hands each chunk to the loop, or a `poll` (an actor) read every
    `interval` s with a deadline; closing the screen stops either."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", tooltip="Back to the Work view"),
    ]

    TIMEOUT = 20.0

    def __init__(
        self,
        title: str,
        *,
        start: Callable[[], Awaitable[Stream]] | None = None,
        poll: Poll | None = None,
        interval: float = 2.0,
    ) -> None:
        super().__init__()
        self.title_text, self.start, self.poll, self.interval = title, start, poll, interval
        self.stop = threading.Event()
        self.received = 0
        """Characters written so far (tests read it)."""

    def compose(self) -> ComposeResult:
        yield Label(self.title_text, id="logs-title", markup=False)
        yield Label("reading…", id="logs-status", markup=False)
        yield Log(id="work-log", highlight=False, max_lines=MAX_LINES)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Log).focus()
        if self.start is not None:
            self._open_stream()
        elif self.poll is not None:
            self._poll_loop()

    def on_unmount(self) -> None:
        self.stop.set()

    def say(self, text: str, *, failed: bool = False) -> None:
        if not self.is_mounted:
            return
        status = self.query_one("#logs-status", Label)
        status.update(text)
        status.set_class(failed, "-failed")

    def write(self, chunk: str) -> None:
        if not self.is_mounted:  # a chunk that crossed the screen's closing
            return
        self.received += len(chunk)
        self.query_one(Log).write(chunk)

    @work(group="work-log", exit_on_error=False)
    async def _open_stream(self) -> None:
        assert self.start is not None
        try:
            stream = await asyncio.wait_for(self.start(), self.TIMEOUT)
        except asyncio.TimeoutError:
            self.say(
                f"no answer within {self.TIMEOUT:g} s: Ray's dashboard may be down", failed=True
            )
            return
        except GridError as exc:
            self.say(exc.summary.splitlines()[0], failed=True)
            return
        self.say("following (escape stops)")
        self.run_worker(lambda: self._pump(stream), thread=True, group="work-log",
                        name="Logs", exit_on_error=False)  # fmt: skip

    def _pump(self, stream: Stream) -> None:
        """On a thread: each chunk goes to the loop; the end or a failure says so."""
        try:
            for chunk in stream(self.stop):
                if self.stop.is_set():
                    return
                self.app.call_from_thread(self.write, chunk)
        except Exception as exc:
            text = exc.summary.splitlines()[0] if isinstance(exc, GridError) else one_line(exc)
            if not self.stop.is_set():
                self.app.call_from_thread(self.say, f"stopped: {text}", failed=True)
            return
        if not self.stop.is_set():
            self.app.call_from_thread(self.say, "ended: nothing more will come")

    @work(group="work-log", exit_on_error=False)
    async def _poll_loop(self) -> None:
        assert self.poll is not None
        seen = ""
        while not self.stop.is_set():
            try:
                text = await asyncio.wait_for(self.poll(), self.TIMEOUT)
            except asyncio.TimeoutError:
                self.say(f"no answer within {self.TIMEOUT:g} s: trying again", failed=True)
            except GridError as exc:
                self.say(exc.summary.splitlines()[0], failed=True)
            else:
                fresh = text[len(seen) :] if text.startswith(seen) else text
                if fresh:
                    if not text.startswith(seen):
                        self.query_one(Log).clear()
                    self.write(fresh)
                seen = text
                self.say(f"following: read again every {self.interval:g} s (escape stops)")
            await asyncio.sleep(self.interval)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        grid_app(self).report_worker_failure(event)
