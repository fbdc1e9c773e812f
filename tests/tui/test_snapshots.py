"""Snapshot tests: the real console on the recorded lab trace, at a fixed terminal size."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from fake_control import LAB_NOW, FakeControl, attach, lab_reservations
from fake_memory import FakeMemory, attach_memory, lab_memory
from fake_work import attach_work
from recorded import lab_start_progress, recorded_backend
from textual.pilot import Pilot
from textual.widgets import Input

from gridtui.backend import Backend
from gridtui.prefs import Prefs
from gridtui.services.cluster.console_ops import STEPS
from gridtui.ui.app import GridApp, make_app
from gridtui.ui.screens.cluster_progress import ClusterProgressScreen, ProgressEvent
from gridtui.ui.widgets import boosts_pane

SnapCompare = Callable[..., bool]

SIZE = (140, 40)


class TestMainScreen:
    def test_main(self, app: GridApp, snap_compare: SnapCompare) -> None:
        assert snap_compare(app, terminal_size=SIZE)

    def test_main_sorted_and_filtered(self, app: GridApp, snap_compare: SnapCompare) -> None:
        assert snap_compare(
            app, terminal_size=SIZE, press=["s", "S", "slash", "b", "o", "x", "enter"]
        )


class TestNodeDetail:
    def test_gpu_node(self, app: GridApp, snap_compare: SnapCompare) -> None:
        assert snap_compare(app, terminal_size=SIZE, press=["down", "down", "enter"])

    def test_gpu_node_80x24(self, app: GridApp, snap_compare: SnapCompare) -> None:
        """The smallest terminal: the side column gives way, every chart keeps its title."""
        assert snap_compare(app, terminal_size=(80, 24), press=["down", "down", "enter"])


class TestHelp:
    def test_help(self, app: GridApp, snap_compare: SnapCompare) -> None:
        assert snap_compare(app, terminal_size=SIZE, press=["question_mark"])


class TestThemes:
    def test_paper_theme(self, backend: Backend, snap_compare: SnapCompare) -> None:
        assert snap_compare(make_app(backend, theme="gridtui-paper"), terminal_size=SIZE)


class TestRayView:
    """The Ray columns, the confirmation and the progress view, on a fixed Ray view."""

    @pytest.fixture
    def ray_app(self, trace_path: Path, prefs_path: Path) -> GridApp:
        return make_app(recorded_backend(trace_path, Prefs(prefs_path), ray_view=True))

    def test_ray_columns(self, ray_app: GridApp, snap_compare: SnapCompare) -> None:
        assert snap_compare(ray_app, terminal_size=SIZE)

    def test_confirm_stop_node(self, ray_app: GridApp, snap_compare: SnapCompare) -> None:
        assert snap_compare(ray_app, terminal_size=SIZE, press=["down", "x"])

    def test_start_progress(self, ray_app: GridApp, snap_compare: SnapCompare) -> None:
        async def run_before(pilot: Pilot[None]) -> None:
            screen = ClusterProgressScreen(
                "Starting Ray on every node", ["ws", "box1", "box2", "box3"], STEPS["start"]
            )
            await pilot.app.push_screen(screen)
            for event in lab_start_progress():
                screen.post_message(ProgressEvent(event))
            await pilot.pause()

        assert snap_compare(ray_app, terminal_size=SIZE, run_before=run_before)


class TestBoosts:
    """The dashboard with recorded reservations (pending, active, expiring, split, lost),
    and both forms, at a pinned clock."""

    @pytest.fixture
    def boost_app(
        self, trace_path: Path, prefs_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> GridApp:
        monkeypatch.setattr(boosts_pane, "now", lambda: LAB_NOW + 5)
        backend = recorded_backend(trace_path, Prefs(prefs_path), ray_view=True)
        attach(backend, FakeControl(lab_reservations()))
        return make_app(backend)

    @staticmethod
    def pressing(*keys: str) -> Callable[[Pilot[None]], Awaitable[None]]:
        async def run_before(pilot: Pilot[None]) -> None:
            await pilot.press(*keys)
            for field in pilot.app.screen.query(Input):
                field.cursor_blink = False  # a blink caught half way is not a change
            await pilot.app.workers.wait_for_complete()
            for screen in pilot.app.screen_stack:
                await screen.workers.wait_for_complete()
            await pilot.pause()

        return run_before

    def test_dashboard(self, boost_app: GridApp, snap_compare: SnapCompare) -> None:
        assert snap_compare(boost_app, terminal_size=SIZE, run_before=self.pressing("3"))

    def test_boost_form(self, boost_app: GridApp, snap_compare: SnapCompare) -> None:
        run = self.pressing("b", "backspace", "4")  # more than box1 has free: the error shows
        assert snap_compare(boost_app, terminal_size=SIZE, run_before=run)

    def test_share_form(self, boost_app: GridApp, snap_compare: SnapCompare) -> None:
        run = self.pressing("B", "backspace", "2")
        assert snap_compare(boost_app, terminal_size=SIZE, run_before=run)

    def test_small_terminal_tabs(self, boost_app: GridApp, snap_compare: SnapCompare) -> None:
        assert snap_compare(boost_app, terminal_size=(90, 28), run_before=self.pressing("3"))


class TestReadOnly:
    def test_read_only_header_and_footer(self, backend: Backend, snap_compare: SnapCompare) -> None:
        """`read-only` in the header; the footer offers none of the refused keys."""
        assert snap_compare(make_app(backend, read_only=True), terminal_size=SIZE)


class TestOffload:
    """The events pane, the Offload view and tuning mode, on the fake engine's lab state."""

    @pytest.fixture
    def offload_app(self, trace_path: Path, prefs_path: Path) -> GridApp:
        backend = recorded_backend(trace_path, Prefs(prefs_path), ray_view=True)
        attach(backend, FakeControl().lab_offload())
        return make_app(backend)

    @staticmethod
    def pressing(*keys: str) -> Callable[[Pilot[None]], Awaitable[None]]:
        async def run_before(pilot: Pilot[None]) -> None:
            app = pilot.app
            assert isinstance(app, GridApp) and app.backend.offload is not None
            await app.backend.offload.refresh()
            await pilot.pause()
            await pilot.press(*keys)
            await app.workers.wait_for_complete()
            await pilot.pause()

        return run_before

    def test_events_pane(self, offload_app: GridApp, snap_compare: SnapCompare) -> None:
        assert snap_compare(offload_app, terminal_size=SIZE, run_before=self.pressing("5"))

    def test_offload_view(self, offload_app: GridApp, snap_compare: SnapCompare) -> None:
        assert snap_compare(offload_app, terminal_size=SIZE, run_before=self.pressing("O"))

    def test_tuning(self, offload_app: GridApp, snap_compare: SnapCompare) -> None:
        run = self.pressing("O", "down", "t", *["shift+left"] * 5)  # memory 85 -> 60
        assert snap_compare(offload_app, terminal_size=SIZE, run_before=run)


class TestMemory:
    """The Memory objects pane on recorded objects (two replicas, one, lost, a long key) and
    per-node bars, and the store dialog with a file typed in."""

    @pytest.fixture
    def memory_app(self, trace_path: Path, prefs_path: Path) -> GridApp:
        backend = recorded_backend(trace_path, Prefs(prefs_path), ray_view=True)
        attach(backend, FakeControl())
        attach_memory(backend, FakeMemory(lab_memory()))
        return make_app(backend)

    def test_memory_pane(self, memory_app: GridApp, snap_compare: SnapCompare) -> None:
        run = TestBoosts.pressing("4", "down")
        assert snap_compare(memory_app, terminal_size=SIZE, run_before=run)

    def test_store_dialog(self, memory_app: GridApp, snap_compare: SnapCompare) -> None:
        async def run_before(pilot: Pilot[None]) -> None:
            await pilot.press("4", "s")
            pilot.app.screen.query_one("#memory-path", Input).value = "tests/data/lab_trace.jsonl"
            pilot.app.screen.query_one("#memory-replicas", Input).value = "5"
            for field in pilot.app.screen.query(Input):
                field.cursor_blink = False
            await pilot.pause()

        assert snap_compare(memory_app, terminal_size=SIZE, run_before=run_before)


class TestWork:
    """The Work view on the fake dashboard's lab work: jobs (one pending, with why), actors
    and tasks by node, gridtui's own apart; the submit form with an error showing."""

    @pytest.fixture
    def work_app(self, trace_path: Path, prefs_path: Path) -> GridApp:
        backend = recorded_backend(trace_path, Prefs(prefs_path), ray_view=True)
        attach_work(backend)
        return make_app(backend)

    @staticmethod
    def pressing(*keys: str) -> Callable[[Pilot[None]], Awaitable[None]]:
        async def run_before(pilot: Pilot[None]) -> None:
            app = pilot.app
            assert isinstance(app, GridApp)
            await app.backend.work().refresh()
            await pilot.pause()
            await pilot.press(*keys)
            for field in app.screen.query(Input):
                field.cursor_blink = False
            await app.workers.wait_for_complete()
            for screen in app.screen_stack:
                await screen.workers.wait_for_complete()
            await pilot.pause()

        return run_before

    def test_work_view(self, work_app: GridApp, snap_compare: SnapCompare) -> None:
        assert snap_compare(work_app, terminal_size=SIZE, run_before=self.pressing("W", "down"))

    def test_job_form(self, work_app: GridApp, snap_compare: SnapCompare) -> None:
        run = self.pressing("W", "j", *"python run.py", "tab", *"box9")
        assert snap_compare(work_app, terminal_size=SIZE, run_before=run)
