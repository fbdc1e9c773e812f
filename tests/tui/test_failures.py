"""Failed workers, wherever they run, become one notification; bugs are logged, not shown."""

from __future__ import annotations

import contextlib
import os

from textual.worker import WorkerFailed

from gridtui.errors import UserError, bug_log_path
from gridtui.ui.app import GridApp

SIZE = (140, 40)


def messages(app: GridApp) -> list[tuple[str, str]]:
    return [(n.message, n.severity) for n in app._notifications]


async def test_a_bug_in_the_backend_start_is_one_line_naming_the_log(app: GridApp) -> None:
    async def broken() -> None:
        raise RuntimeError("boom\nsecond line")

    app.backend.start = broken  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        with contextlib.suppress(WorkerFailed):
            await app.workers.wait_for_complete()
        await pilot.pause()
        log = bug_log_path()
        assert messages(app) == [
            (f"internal error: RuntimeError: boom (details in {log})", "error")
        ]
        text = log.read_text()
        assert "Traceback" in text and "second line" in text
        assert app.is_running


async def test_a_screen_workers_grid_error_shows_its_summary(app: GridApp) -> None:
    async def refused() -> None:
        raise UserError("node box9 refused", ["detail that stays out of the toast"])

    async with app.run_test(size=SIZE) as pilot:
        app.screen.run_worker(refused(), name="refuse", exit_on_error=False)
        with contextlib.suppress(WorkerFailed):
            await app.workers.wait_for_complete()
        await pilot.pause()
        assert ("node box9 refused", "error") in messages(app)
        assert not os.path.exists(bug_log_path())  # noqa: ASYNC240 (not a bug: nothing logged)
        assert app.is_running
