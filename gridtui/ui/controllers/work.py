"""The Work view's intents: logs, stop or kill (after a confirmation), submit; one call each."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from gridtui.model.work import JobRow, WorkItem
from gridtui.ui.access import grid_app
from gridtui.ui.screens.confirm import ConfirmScreen

if TYPE_CHECKING:
    from gridtui.backend import Backend
    from gridtui.ui.screens.work import WorkScreen
    from gridtui.ui.widgets.work_table import Line

CALL_TIMEOUT = 20.0
"""A stop, a kill or a read: the dashboard answers in well under a second when it is up."""
SUBMIT_TIMEOUT = 75.0
"""A submission may upload a working dir (Ray's own deadline is 60 s)."""
GROUP = "work"


class WorkController:
    """Everything a Work view key does beyond drawing: the screen forwards its actions."""

    def __init__(self, screen: WorkScreen) -> None:
        self.screen = screen

    @property
    def backend(self) -> Backend:
        return grid_app(self.screen).backend

    def _ready(self) -> bool:
        app = grid_app(self.screen)
        if not app.ready:
            self.screen.notify("The cluster file is still being read", severity="warning")
            return False
        return True

    def _run(self, work: Any, name: str) -> None:
        self.screen.run_worker(work, name=name, group=GROUP, exit_on_error=False)

    # -- logs ------------------------------------------------------------------------------

    def open_logs(self, line: Line | None) -> None:
        from gridtui.ui.screens.work_logs import WorkLogScreen

        if line is None or not self._ready():
            self.screen.notify("No job or actor selected", severity="warning")
            return
        jid = line.job.id if line.job is not None else ""
        item = line.item
        if item is not None and item.kind == "job":
            jid = item.name  # a job's entrypoint: its submission id
        if jid:
            self.screen.app.push_screen(
                WorkLogScreen(f"Logs of job {jid}", start=lambda: self._job_stream(jid))
            )
        elif item is not None and item.kind == "actor":
            title = f"Logs of actor {item.name} ({item.id[:12]}) on {item.node}"
            self.screen.app.push_screen(
                WorkLogScreen(title, poll=lambda: self.backend.work().actor_log(item.id))
            )
        else:
            self.screen.notify(
                "A task has no log of its own here: open its actor's or its job's",
                severity="warning",
            )

    async def _job_stream(self, jid: str) -> Any:
        work = self.backend.work()
        job = await work.job(jid)  # reaches the dashboard first; NotFound for a gone job

        def stream(stop: threading.Event) -> Iterator[str]:
            return work.follow(job, stop)

        return stream

    # -- stop and kill ---------------------------------------------------------------------

    def stop(self, line: Line | None) -> None:
        if line is None or not self._ready():
            self.screen.notify("No job or actor selected", severity="warning")
            return
        item = line.item
        if line.job is not None or (item is not None and item.kind == "job"):
            jid = line.job.id if line.job is not None else item.name if item else ""
            self._confirm_stop(jid, line.job)
        elif item is not None and item.kind == "actor":
            self._confirm_kill(item)
        else:
            self.screen.notify(
                "A task cannot be stopped alone: stop its job, or kill its actor",
                severity="warning",
            )

    def _confirm_stop(self, jid: str, job: JobRow | None) -> None:
        if job is not None and job.terminal:
            self.screen.notify(f"Job {jid} has ended ({job.status})", severity="warning")
            return
        lines = [
            f"Ray stops job {jid}: SIGTERM to its entrypoint, then SIGKILL; its record stays.",
        ]
        if job is not None:
            lines.insert(0, f"{job.entrypoint} ({job.status.lower()} on {job.node or '-'})")

        def answered(yes: bool | None) -> None:
            if yes:
                self._run(self._stop_job(jid), "Stop job")

        self.screen.app.push_screen(ConfirmScreen(f"Stop job {jid}?", lines, "Stop"), answered)

    async def _stop_job(self, jid: str) -> None:
        work = self.backend.work()
        job, was_running = await asyncio.wait_for(work.stop_job(jid), CALL_TIMEOUT)
        said = "stopping" if was_running else "was not running"
        self.screen.notify(f"Job {jid}: {said} ({job.status})", title="Work")
        await self.refresh()

    def _confirm_kill(self, item: WorkItem) -> None:
        lines = [
            f"{item.name}{f' ({item.label})' if item.label else ''} on {item.node}, pid "
            f"{item.pid if item.pid is not None else '-'}, job {item.job_id or '-'}",
            "Ray kills it at once (no restart); calls waiting on it fail.",
        ]

        def answered(yes: bool | None) -> None:
            if yes:
                self._run(self._kill(item), "Kill actor")

        title = f"Kill actor {item.id[:12]}?"
        self.screen.app.push_screen(ConfirmScreen(title, lines, "Kill"), answered)

    async def _kill(self, item: WorkItem) -> None:
        kill = self.backend.work().kill_actor(item.id, item.label, item.namespace)
        await asyncio.wait_for(kill, CALL_TIMEOUT)
        self.screen.notify(f"Actor {item.name} ({item.id[:12]}) killed", title="Work")
        await self.refresh()

    # -- submit ----------------------------------------------------------------------------

    def open_form(self, node: str = "") -> None:
        from gridtui.ui.screens.job_form import JobForm

        if not self._ready():
            return
        backend = self.backend
        strategies, _default = backend.strategies()
        nodes = [n.name for n in backend.config.nodes]

        def answered(request: Any) -> None:
            if request is not None:
                self._run(self._submit(request), "Submit job")

        form = JobForm(backend.check_job, nodes, strategies, node)
        self.screen.app.push_screen(form, answered)

    async def _submit(self, request: Any) -> None:
        self.screen.notify(f"Submitting {request.entrypoint}…", title="Work", timeout=3)
        job = await asyncio.wait_for(self.backend.submit_job(request), SUBMIT_TIMEOUT)
        self.screen.notify(f"Job {job.id}: {job.status}", title="Work")
        await self.refresh()

    async def refresh(self) -> None:
        """Read the work again now (after a change, or when the view opens)."""
        await asyncio.wait_for(self.backend.work().refresh(), CALL_TIMEOUT)
