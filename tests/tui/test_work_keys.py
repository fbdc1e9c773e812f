"""Pilot tests of the Work view's keys on the real WorkService over a fake dashboard."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fake_work import HOSTS, FakeWork, attach_work
from recorded import recorded_backend
from screen_text import screen_lines
from textual.pilot import Pilot
from textual.widgets import Input, Log, Static

from gridtui.prefs import Prefs
from gridtui.ui.app import GridApp, make_app
from gridtui.ui.screens.confirm import ConfirmScreen
from gridtui.ui.screens.job_form import JobForm
from gridtui.ui.screens.work import WorkScreen
from gridtui.ui.screens.work_logs import WorkLogScreen
from gridtui.ui.widgets.nodes_table import NodesTable
from gridtui.ui.widgets.work_table import WorkTable

SIZE = (140, 40)


def build(
    trace_path: Path, prefs_path: Path, *, read_only: bool = False
) -> tuple[GridApp, FakeWork]:
    backend = recorded_backend(trace_path, Prefs(prefs_path), ray_view=True)
    work = attach_work(backend)
    return make_app(backend, read_only=read_only), work


async def settle(pilot: Pilot[None]) -> None:
    app = pilot.app
    for _ in range(3):
        await app.workers.wait_for_complete()
        for screen in app.screen_stack:
            await screen.workers.wait_for_complete()
        await pilot.pause()


async def open_view(pilot: Pilot[None], work: FakeWork) -> WorkScreen:
    await work.refresh()
    await pilot.press("W")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, WorkScreen)
    return screen


async def select(pilot: Pilot[None], screen: WorkScreen, key: str) -> None:
    """Move the cursor with the arrow keys until it rests on `key`'s row."""
    table = screen.query_one(WorkTable)
    await pilot.press("home")
    for _ in range(len(table.lines)):
        if table.current is not None and table.current.key == key:
            return
        await pilot.press("down")
    raise AssertionError(f"{key} is not selectable")


async def until(pilot: Pilot[None], done: Callable[[], bool]) -> None:
    """Let the app run until `done()` (a log screen's reader never finishes by itself)."""
    for _ in range(400):
        if done():
            return
        await pilot.pause(0.01)
    raise AssertionError("never happened")


def log_text(screen: object) -> str:
    assert isinstance(screen, WorkLogScreen)
    return "\n".join(screen.query_one(Log).lines)


def notes(app: GridApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_W_shows_jobs_then_work_by_node_with_why_and_the_nodes_column(
    trace_path: Path, prefs_path: Path
) -> None:
    app, work = build(trace_path, prefs_path)
    async with app.run_test(size=SIZE) as pilot:
        await work.refresh()
        await pilot.pause()
        table = app.screen.query_one(NodesTable)
        # box1: the Trainer and the running job's entrypoint; gridtui's controller not counted.
        assert [table.get_cell(n, "work") for n in ("ws", "box1", "box2", "box3")] == [
            "1", "2", "2", "-",
        ]  # fmt: skip
        await open_view(pilot, work)
        text = "\n".join(screen_lines(app))
        order = [text.index(s) for s in ("Jobs (3)", "python sweep.py", "ws · 1 actor",
                                         "box1 · 1 actor, 1 job", "box2 · 1 actor, 1 task",
                                         "box3 · nothing running", "gridtui's own (1)")]  # fmt: skip
        assert order == sorted(order)
        # The pending job says why, on the line under it.
        assert "waits: no node has 32 CPU; the largest has 16" in text
        assert text.index("python sweep.py") < text.index("waits: no node has 32 CPU")
        await pilot.press("escape")
        assert not isinstance(app.screen, WorkScreen)


async def test_slash_filters_and_escape_clears(trace_path: Path, prefs_path: Path) -> None:
    app, work = build(trace_path, prefs_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_view(pilot, work)
        table = screen.query_one(WorkTable)
        await pilot.press("slash", *"trainer")
        await pilot.pause()
        keys = [line.key for line in table.lines if line.key]
        assert keys == ["aa01" * 8]  # the Trainer only: no job, no other actor
        await pilot.press("enter")  # keeps the filter, back to the table
        assert table.has_focus and len([k for k in table.lines if k.key]) == 1
        await pilot.press("escape")
        await pilot.pause()
        assert len([line for line in table.lines if line.key]) == 8
        assert isinstance(app.screen, WorkScreen)


async def test_enter_follows_a_jobs_logs_and_an_actors(trace_path: Path, prefs_path: Path) -> None:
    app, work = build(trace_path, prefs_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_view(pilot, work)
        await select(pilot, screen, "gridtui-5e1f0a")
        await pilot.press("enter")
        logs = app.screen
        assert isinstance(logs, WorkLogScreen) and logs.title_text == "Logs of job gridtui-5e1f0a"
        status = logs.query_one("#logs-status", Static)
        await until(pilot, lambda: "ended" in str(status.content))
        assert "epoch 2" in log_text(logs)
        await pilot.press("escape")
        await select(pilot, screen, "aa02" * 8)
        await pilot.press("enter")
        logs = app.screen
        await until(pilot, lambda: "actor aa02aa02 says hello" in log_text(logs))
        assert ("actor_log", "aa02" * 8) in work.board_fake.calls
        await pilot.press("escape")
        assert app.screen is screen


async def test_k_stops_a_job_only_after_yes(trace_path: Path, prefs_path: Path) -> None:
    app, work = build(trace_path, prefs_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_view(pilot, work)
        await select(pilot, screen, "gridtui-5e1f0a")
        await pilot.press("k")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert work.board_fake.calls == []
        await pilot.press("k", "y")
        await settle(pilot)
        assert work.board_fake.calls == [("stop", "gridtui-5e1f0a")]
        assert any("gridtui-5e1f0a: stopping (STOPPED)" in m for m in notes(app))
        assert "STOPPED   gridtui-5e1f0a" in "\n".join(screen_lines(app))


async def test_k_kills_an_actor_after_yes(trace_path: Path, prefs_path: Path) -> None:
    app, work = build(trace_path, prefs_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_view(pilot, work)
        await select(pilot, screen, "aa03" * 8)
        await pilot.press("k")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Watcher on box2, pid 6003" in str(app.screen.query_one("#confirm-body").render())
        await pilot.press("y")
        await settle(pilot)
        assert work.killed == ["aa03" * 8]
        assert "Watcher" not in "\n".join(screen_lines(app))


async def test_j_form_checks_live_and_submits_pinned_to_the_node(
    trace_path: Path, prefs_path: Path
) -> None:
    app, work = build(trace_path, prefs_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_view(pilot, work)
        await pilot.press("j")
        form = app.screen
        assert isinstance(form, JobForm)

        def error() -> str:
            return str(form.query_one("#form-error", Static).content)

        assert error().startswith("no command")
        await pilot.press("enter")  # refused: nothing submitted
        assert app.screen is form
        await pilot.press(*"python run.py")
        await pilot.pause()
        assert error() == "ready: python run.py"
        form.query_one("#job-node", Input).value = "box9"
        await pilot.pause()
        assert error().startswith("unknown node 'box9'")
        form.query_one("#job-node", Input).value = "box1"
        form.query_one("#job-strategy", Input).value = "spread"
        await pilot.pause()
        assert "cannot be combined" in error()
        form.query_one("#job-strategy", Input).value = ""
        form.query_one("#job-cpu", Input).value = "two"
        await pilot.pause()
        assert error().startswith("cpu: not a number")
        form.query_one("#job-cpu", Input).value = "0.5"
        await pilot.pause()
        assert work.board_fake.calls == []
        form.query_one("#job-command", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, WorkScreen)
        [(verb, options)] = work.board_fake.calls
        assert verb == "submit" and options["entrypoint"] == "python run.py"
        assert options["entrypoint_resources"] == {f"node:{HOSTS['box1']}": 0.001}
        assert options["entrypoint_num_cpus"] == 0.5
        assert any(m.endswith(": PENDING") for m in notes(app))


@pytest.mark.parametrize("key", ["k", "j"])
async def test_read_only_refuses_k_and_j(trace_path: Path, prefs_path: Path, key: str) -> None:
    app, work = build(trace_path, prefs_path, read_only=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_view(pilot, work)
        await select(pilot, screen, "gridtui-5e1f0a")
        await pilot.press(key)
        await settle(pilot)
        what = {"k": "stop/kill", "j": "submit job"}[key]
        assert notes(app) == [f"read-only console: {key} ({what}) changes the cluster"]
        assert app.screen is screen
        assert work.board_fake.calls == [] and work.killed == []


async def test_a_dead_dashboard_shows_as_such(trace_path: Path, prefs_path: Path) -> None:
    app, work = build(trace_path, prefs_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_view(pilot, work)
        work.board_fake.dead = True
        poll = work.start_polling(0.05)
        try:
            while work.snapshot.connected:
                await pilot.pause(0.05)
            await pilot.pause()
        finally:
            poll.cancel()
        status = screen.query_one("#work-status", Static)
        assert status.has_class("-failed")
        assert "Ray's dashboard is not reachable" in str(status.content)
        assert "does not answer" in str(status.content)
        await pilot.press("escape")
        await pilot.pause()
        # The Nodes pane's count is unknown then, not zero.
        table = app.screen.query_one(NodesTable)
        assert [table.get_cell(n, "work") for n in ("ws", "box1")] == ["?", "?"]


async def test_the_palette_opens_the_view_and_offers_its_keys(
    trace_path: Path, prefs_path: Path
) -> None:
    from gridtui.ui.commands import console_commands

    for read_only in (False, True):
        app, _work = build(trace_path, prefs_path, read_only=read_only)
        async with app.run_test(size=SIZE) as pilot:
            [entry] = [
                c for c in console_commands(app, app.screen) if c.title.startswith("Open the Work")
            ]
            await entry.callback()
            await settle(pilot)
            assert isinstance(app.screen, WorkScreen)
            titles = {c.title for c in console_commands(app, app.screen)}
            assert "Work: logs of the selected job or actor" in titles
            changes = {"Work: submit a job…", "Work: stop the selected job or kill the actor…"}
            assert (changes <= titles) is not read_only
            assert not (changes & titles) or not read_only
