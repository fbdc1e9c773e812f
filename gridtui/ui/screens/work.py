"""The Work view (`W`): jobs, then actors and tasks by node; logs, stop, submit, and why."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Input, Static
from textual.worker import Worker

from gridtui.errors import GridError
from gridtui.feeds import NODES, WORK
from gridtui.model.nodes import ClusterSnapshot
from gridtui.model.work import WorkSnapshot
from gridtui.ui.access import grid_app
from gridtui.ui.bridge import follow, latest
from gridtui.ui.controllers.work import GROUP, WorkController
from gridtui.ui.readonly import ReadOnlyAware
from gridtui.ui.textual_private import QuietBeneath
from gridtui.ui.widgets.header import ClusterHeader
from gridtui.ui.widgets.shown import WhenShown
from gridtui.ui.widgets.work_table import WorkTable, build_lines

if TYPE_CHECKING:
    from gridtui.ui.screens.help import Section


LOGS = "The selected job's or actor's logs, followed live"
STOP = "Stop the selected job, or kill the selected actor (asks first)"
SUBMIT = "Submit a job: command, node or strategy, resources (checked as you type)"


def status_text(snap: WorkSnapshot) -> tuple[str, bool]:
    """The line above the table, and whether it reports a failure (a dead dashboard)."""
    if not snap.connected:
        return f"Ray's dashboard is not reachable: {snap.message or 'no answer'}", True
    users = snap.user_items()
    actors = sum(1 for i in users if i.kind == "actor")
    tasks = sum(1 for i in users if i.kind == "task")
    running = sum(1 for j in snap.jobs if j.status == "RUNNING")
    pending = sum(1 for j in snap.jobs if j.pending)
    read = time.strftime("%H:%M:%S", time.localtime(snap.time))
    return (
        f"{len(snap.jobs)} jobs ({running} running, {pending} pending) · {actors} actors · "
        f"{tasks} running tasks · read at {read} · enter logs · k stop/kill · j submit · / filter"
    ), False


class WorkScreen(ReadOnlyAware, QuietBeneath[None]):
    """Draws the app's work feed (the Backend's WorkService publishes it); its keys are
    intents the controller runs as one back-end call each."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "escape", "Back", tooltip="Back (in the filter: clear it)"),
        Binding("slash", "filter", "Filter", key_display="/", tooltip="Filter by any word"),
        Binding("enter", "work_logs", "Logs", tooltip=LOGS),
        Binding("k", "stop_work", "Stop/kill", tooltip=STOP),
        Binding("j", "job_form", "Submit job", tooltip=SUBMIT),
    ]

    PALETTE: ClassVar[dict[str, str]] = {
        "work_logs": "Work: logs of the selected job or actor",
        "stop_work": "Work: stop the selected job or kill the actor…",
        "job_form": "Work: submit a job…",
    }

    def __init__(self) -> None:
        super().__init__()
        self.controller = WorkController(self)
        self.needle = ""
        self._shown: WorkSnapshot | None = None
        self._status = ("", False)

    def compose(self) -> ComposeResult:
        yield ClusterHeader(id="header")
        yield Static("", id="work-status", markup=False)
        yield WorkTable(id="work-table")
        yield Input(placeholder="filter jobs, actors and tasks by any word", id="work-filter")
        yield Footer()

    def on_mount(self) -> None:
        app = grid_app(self)
        header = self.query_one(ClusterHeader)
        header.subtitle = "Work"
        follow(self, NODES, self._header)
        self.query_one("#work-filter", Input).display = False
        self._update = WhenShown(self.query_one(WorkTable), self.redraw)
        self._update.attach()
        follow(self, WORK, lambda _snap: self._update(), now=False)
        self.redraw()
        self.query_one(WorkTable).focus()
        if app.ready:  # a fresh read now, not at the next poll
            self.run_worker(self._refresh(), name="Work", group=GROUP, exit_on_error=False)

    async def _refresh(self) -> None:
        # Before Ray is reached there is nothing to read: the status line says why.
        with contextlib.suppress(GridError, asyncio.TimeoutError):
            await self.controller.refresh()

    def _header(self, snapshot: ClusterSnapshot) -> None:
        self.query_one(ClusterHeader).snapshot = snapshot

    def redraw(self) -> bool:
        snap = latest(self, WORK)
        if snap is not self._shown:
            self._shown = snap
            status = status_text(snap)
            if status != self._status:
                self._status = status
                widget = self.query_one("#work-status", Static)
                widget.update(status[0])
                widget.set_class(status[1], "-failed")
        self.query_one(WorkTable).show(build_lines(snap, self.needle))
        return True

    # -- keys ------------------------------------------------------------------------------

    def action_escape(self) -> None:
        bar = self.query_one("#work-filter", Input)
        if bar.has_focus or self.needle:
            bar.value = ""
            bar.display = False
            self.query_one(WorkTable).focus()
            return
        self.app.pop_screen()

    def action_filter(self) -> None:
        bar = self.query_one("#work-filter", Input)
        bar.display = True
        bar.focus()

    @on(Input.Changed, "#work-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.needle = event.value
        self.redraw()

    @on(Input.Submitted, "#work-filter")
    def _filter_kept(self) -> None:
        self.query_one(WorkTable).focus()

    def action_work_logs(self) -> None:
        self.controller.open_logs(self.query_one(WorkTable).current)

    def action_stop_work(self) -> None:
        self.controller.stop(self.query_one(WorkTable).current)

    def action_job_form(self) -> None:
        line = self.query_one(WorkTable).current
        node = line.item.node if line is not None and line.item is not None else ""
        self.controller.open_form(node if node in self._node_names() else "")

    def _node_names(self) -> list[str]:
        app = grid_app(self)
        return [n.name for n in app.backend.config.nodes] if app.ready else []

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        grid_app(self).report_worker_failure(event)


def work_help_sections() -> list[Section]:
    """The Work view's rows in the help and docs/keys.md (app.help_sections adds them)."""
    from gridtui.ui.screens.job_form import JobForm
    from gridtui.ui.screens.work_logs import WorkLogScreen

    return [
        ("Work view", WorkScreen, None),
        ("Job form", JobForm, None),
        ("Work logs", WorkLogScreen, None),
    ]
