"""Pilot tests of the cluster keys on recorded data: confirm, cancel, progress, errors, logs, shell."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from textual.app import App
from textual.widgets import Log

from gridtui.model.operations import Operation, ShellExit
from gridtui.services.cluster import console_ops as cluster_control
from gridtui.services.cluster import shell
from gridtui.services.cluster.lifecycle import (
    ClusterError,
    NodeProgress,
    NodeVersion,
    Progress,
    StartReport,
)
from gridtui.services.cluster.procs import StopResult
from gridtui.ui.app import GridApp
from gridtui.ui.screens.cluster_progress import ClusterProgressScreen
from gridtui.ui.screens.confirm import ConfirmScreen
from gridtui.ui.screens.main import MainScreen
from gridtui.ui.screens.ray_logs import RayLogScreen

SIZE = (140, 40)


class FakeOps:
    """Records the calls the console makes and reports progress like ClusterOps does."""

    def __init__(
        self, calls: list[tuple[str, Any]], progress: Progress | None, fail: str = ""
    ) -> None:
        self.calls, self.progress, self.fail = calls, progress or (lambda e: None), fail

    async def __aenter__(self) -> FakeOps:
        return self

    async def __aexit__(self, *exc: object) -> None:
        pass

    async def start(self) -> StartReport:
        self.calls.append(("start", None))
        for node in ("ws", "box1"):
            self.progress(NodeProgress(node, "start", "ok"))
        return StartReport(started=["box3"], already_running=["ws", "box1", "box2"])

    async def stop(self, node: str | None = None) -> list[StopResult]:
        self.calls.append(("stop", node))
        self.progress(NodeProgress(node or "ws", "stop", "ok", "3 stopped, 0 killed"))
        return [StopResult(node or "ws", 3, 0, 0)]

    async def install(self) -> list[NodeVersion]:
        self.calls.append(("install", None))
        if self.fail:
            self.progress(NodeProgress("box2", "check", "failed", self.fail))
            raise ClusterError("1 of 4 nodes are not ready", [self.fail])
        return [NodeVersion(n, "3.11.9", "2.60.0") for n in ("ws", "box1", "box2", "box3")]

    async def logs(self, node: str, lines: int = 200) -> dict[str, list[str]]:
        self.calls.append(("logs", node))
        return {
            "raylet.out": [f"{node} raylet line {i}" for i in range(3)],
            "gcs_server.out": ["gcs up"],
        }


@pytest.fixture
def calls(app: GridApp) -> list[tuple[str, Any]]:
    recorded: list[tuple[str, Any]] = []
    app.backend.ops_factory = lambda progress: FakeOps(recorded, progress)  # type: ignore[assignment,return-value]
    return recorded


def messages(app: GridApp) -> list[tuple[str, str]]:
    return [(n.message, n.severity) for n in app._notifications]


async def test_stop_node_confirm_runs_one_stop_of_that_node(app: GridApp, calls: list[Any]) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("x")  # the cursor is on box1, the first row
        assert isinstance(app.screen, ConfirmScreen)
        assert "box1" in app.screen.title_text and calls == []
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert calls == [("stop", "box1")]
        assert isinstance(app.screen, ClusterProgressScreen)
        assert app.screen.finished is True
        row = app.screen.row("box1")
        assert row is not None and row.done == 1
        assert ("Stopped Ray on box1 (3 processes)", "information") in messages(app)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


@pytest.mark.parametrize("cancel", ["n", "escape", "enter"])
async def test_cancel_changes_nothing(app: GridApp, calls: list[Any], cancel: str) -> None:
    async with app.run_test(size=SIZE) as pilot:
        for key in ("D", "u", "i"):
            await pilot.press(key)
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press(cancel)  # enter: the focused button is Cancel
            assert isinstance(app.screen, MainScreen)
        await app.workers.wait_for_complete()
        assert calls == []
        assert messages(app) == []


async def test_start_and_whole_stop_confirmed(app: GridApp, calls: list[Any]) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("u", "y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert ("Ray is up: 1 started, 3 already running", "information") in messages(app)
        await pilot.press("escape", "D")
        assert isinstance(app.screen, ConfirmScreen)
        body = " ".join(app.screen.lines)
        assert all(n in body for n in ("ws", "box1", "box2", "box3"))
        await pilot.press("y")
        await app.workers.wait_for_complete()
        assert calls == [("start", None), ("stop", None)]


async def test_failure_is_a_one_line_error_notification(app: GridApp) -> None:
    recorded: list[Any] = []
    problem = "box2: Python 3.10.2 (console: 3.11) at /usr/bin/python3"
    app.backend.ops_factory = lambda p: FakeOps(recorded, p, fail=problem)  # type: ignore[assignment,return-value]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("i", "y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert messages(app) == [("1 of 4 nodes are not ready", "error")]
        assert isinstance(app.screen, ClusterProgressScreen)
        assert app.screen.finished is False
        row = app.screen.row("box2")
        assert row is not None and row.has_class("-failed")
        assert app.is_running


async def test_a_second_operation_waits_for_the_first(app: GridApp, calls: list[Any]) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, MainScreen)
        screen.cluster.run_operation(Operation("stop", "box2"))
        screen.cluster.request("start")
        await pilot.pause()
        assert ("A cluster operation is still running; wait for it", "warning") in messages(app)
        await app.workers.wait_for_complete()
        assert calls == [("stop", "box2")]


async def test_logs_screen_shows_the_node_logs_and_follows(app: GridApp, calls: list[Any]) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "l")
        assert isinstance(app.screen, RayLogScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = "\n".join(app.screen.query_one(Log).lines)
        assert "==> raylet.out <==" in text and "box2 raylet line 2" in text
        assert calls == [("logs", "box2")]
        app.screen.interval = 0.2
        await pilot.press("f")
        assert app.screen.follow
        await pilot.pause(0.7)
        reads = app.screen.reads
        assert reads >= 3
        await pilot.press("p")
        await pilot.pause(0.5)
        assert app.screen.reads <= reads + 1  # at most the read already under way
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


@contextlib.contextmanager
def no_suspend(self: App[Any]) -> Iterator[None]:
    yield


async def test_shell_suspends_and_runs_ssh_as_an_argv(
    app: GridApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[list[str]] = []
    monkeypatch.setattr(shell.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(App, "suspend", no_suspend)
    monkeypatch.setattr(
        cluster_control,
        "run_interactive",
        lambda argv, capture_stderr: ran.append(list(argv)) or ShellExit(0),
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "down", "o")  # ws
        assert ran and ran[0][0] == "/usr/bin/ssh" and ran[0][-2:] == ["--", "ws.lab"]
        assert "StrictHostKeyChecking=yes" in ran[0]
        assert app.is_running and isinstance(app.screen, MainScreen)


async def test_shell_without_ssh_is_a_notification(
    app: GridApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shell.shutil, "which", lambda name: None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("o")
        await pilot.pause()
        assert messages(app) == [("ssh is not installed: cannot open a shell on box1", "error")]


async def test_closing_the_progress_view_early_still_reports_the_end(app: GridApp) -> None:
    """The work goes on after escape, and its end still becomes a notification."""
    import asyncio

    release = asyncio.Event()
    recorded: list[tuple[str, Any]] = []

    class SlowOps(FakeOps):
        async def stop(self, node: str | None = None) -> list[StopResult]:
            await release.wait()
            return await super().stop(node)

    app.backend.ops_factory = lambda progress: SlowOps(recorded, progress)  # type: ignore[assignment,return-value]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("x", "y")
        await pilot.pause()
        assert isinstance(app.screen, ClusterProgressScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert recorded == [("stop", "box1")]
        assert ("Stopped Ray on box1 (3 processes)", "information") in messages(app)
        assert not [m for m in messages(app) if m[1] == "error"]
