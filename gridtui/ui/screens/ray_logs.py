"""A node's Ray logs (raylet, GCS, gridtui's start log): scrollable, with a follow mode."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Footer, Label, Log
from textual.worker import Worker

from gridtui.errors import GridError, one_line
from gridtui.ui.access import grid_app
from gridtui.ui.textual_private import QuietBeneath

LogFetch = Callable[[], Awaitable[dict[str, list[str]]]]


def log_lines(files: dict[str, list[str]]) -> list[str]:
    """tail(1)'s layout: a `==> name <==` line before each file's lines."""
    out: list[str] = []
    for name, lines in files.items():
        if out:
            out.append("")
        out.append(f"==> {name} <==")
        out.extend(lines)
    return out or ["(no Ray logs on this node yet)"]


class RayLogScreen(QuietBeneath[None]):
    """Reads through the screen's `fetch` (one back-end logs call) in an async worker; while
    a read is under way, a status line says what it waits for and for how long."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", tooltip="Back to the Nodes table"),
        Binding("f", "follow", "Follow", tooltip="Follow: re-read the logs every 2 s"),
        Binding("p", "pause", "Pause", tooltip="Stop following (the lines stay)"),
        Binding("r", "reload", "Reload", tooltip="Read the logs again once"),
    ]

    TIMEOUT = 10.0
    """A log tail takes well under a second: a node silent this long is not answering."""

    follow: reactive[bool] = reactive(False)
    """Whether the logs are re-read every `interval` seconds and the view kept at the end."""

    def __init__(
        self,
        node: str,
        fetch: LogFetch,
        *,
        waiting_for: str = "",
        interval: float = 2.0,
        timeout: float | None = None,
    ) -> None:
        super().__init__()
        self.node, self.fetch = node, fetch
        self.waiting_for = waiting_for or f"{node} to answer"
        self.interval = interval
        self.timeout = self.TIMEOUT if timeout is None else timeout
        self.reads = 0
        self._timer: Timer | None = None
        self._reading = False
        self._started = 0.0

    def compose(self) -> ComposeResult:
        yield Label(f"Ray logs of {self.node}", id="logs-title", markup=False)
        yield Label("", id="logs-status", markup=False)
        yield Log(id="ray-log", highlight=False, auto_scroll=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Log).focus()
        self.action_reload()

    def _say(self, text: str, *, failed: bool = False) -> None:
        status = self.query_one("#logs-status", Label)
        status.update(text)
        status.set_class(failed, "-failed")

    def _tick(self) -> None:
        waited = time.monotonic() - self._started
        self._say(f"reading: waiting for {self.waiting_for} ({waited:.0f} s of {self.timeout:g} s)")

    @work(exclusive=True, group="ray-logs", exit_on_error=False)
    async def action_reload(self) -> None:
        log = self.query_one(Log)
        self._reading = True
        self._started = time.monotonic()
        self._tick()
        clock = self.set_interval(1.0, self._tick)
        if self.reads == 0 and not log.line_count:
            log.write_line(f"(reading the Ray logs of {self.node}…)")
        lines: list[str] | None = None
        try:
            lines = log_lines(await asyncio.wait_for(self.fetch(), self.timeout))
        except asyncio.TimeoutError:
            failure = (
                f"no answer from {self.node} within {self.timeout:g} s: it may be down or "
                "unreachable; r tries again"
            )
        except GridError as exc:
            failure = f"cannot read the logs of {self.node}: {exc.summary.splitlines()[0]}"
        except Exception as exc:  # a bug: logged with its traceback, one line shown
            failure = f"cannot read the logs of {self.node}: {one_line(exc)}"
        finally:
            self._reading = False
            clock.stop()
        self.reads += 1
        if lines is None:
            # Lines already shown stay; the status line says why they were not refreshed.
            if self.reads == 1:
                log.clear()
                log.write_line(f"({failure})")
            self._say(failure, failed=True)
            return
        self._say(f"read at {time.strftime('%H:%M:%S')}")
        keep = log.scroll_y
        log.clear()
        log.write_lines(lines)
        if self.follow:
            log.scroll_end(animate=False)
        else:
            log.scroll_to(y=keep, animate=False)

    def watch_follow(self, follow: bool) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if follow:
            self._timer = self.set_interval(self.interval, self._follow_tick)
        title = f"Ray logs of {self.node}" + ("  · following" if follow else "")
        self.query_one("#logs-title", Label).update(title)

    def _follow_tick(self) -> None:
        # A read slower than the interval is left to finish: starting another (exclusive)
        # would cancel it, and a slow node would then never show anything.
        if not self._reading:
            self.action_reload()

    def action_follow(self) -> None:
        self.follow = True
        self.query_one(Log).scroll_end(animate=False)
        self.action_reload()

    def action_pause(self) -> None:
        self.follow = False

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        grid_app(self).report_worker_failure(event)
