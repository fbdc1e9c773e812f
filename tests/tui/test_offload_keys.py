"""Pilot tests of the Offload events pane and the Offload view's keys, on a fake engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_control import FakeControl, attach
from recorded import recorded_backend
from screen_text import screen_lines

from gridtui.cli import main as cli_main
from gridtui.prefs import Prefs
from gridtui.services.control.client import Refused
from gridtui.ui.app import GridApp, make_app
from gridtui.ui.screens.confirm import ConfirmScreen
from gridtui.ui.screens.main import MainScreen
from gridtui.ui.screens.offload import OffloadScreen
from gridtui.ui.widgets.offload_pane import OffloadPane
from gridtui.ui.widgets.threshold_gauges import ThresholdGauges

SIZE = (140, 40)

CLUSTER_FILE = """\
# The lab: ws is the owner's workstation.
name: lab
nodes:
  - {name: ws, host: ws.lab, role: head}   # the head
  - {name: box1, host: 10.0.0.11}
offload:
  enabled: false
  thresholds:
    cpu: 80    # the owner's comfort limit
    memory: 85
  sustain_seconds: 10   # seconds above before acting
"""


@pytest.fixture
def fake() -> FakeControl:
    return FakeControl().lab_offload()


def build(trace_path: Path, prefs_path: Path, fake: FakeControl, config: Path | None) -> GridApp:
    backend = recorded_backend(trace_path, Prefs(prefs_path), ray_view=True)
    backend.config_path = config
    attach(backend, fake)
    return make_app(backend)


@pytest.fixture
def app(trace_path: Path, prefs_path: Path, fake: FakeControl) -> GridApp:
    return build(trace_path, prefs_path, fake, None)


def messages(app: GridApp) -> list[tuple[str, str]]:
    return [(n.message, n.severity) for n in app._notifications]


async def open_view(app: GridApp, pilot: object) -> OffloadScreen:
    from textual.pilot import Pilot

    assert isinstance(pilot, Pilot)
    await pilot.press("O")
    await app.workers.wait_for_complete()
    await pilot.pause()
    assert isinstance(app.screen, OffloadScreen)
    return app.screen


async def test_events_pane_lists_events_newest_first_with_reasons(
    app: GridApp, fake: FakeControl
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        pane = app.screen.query_one(OffloadPane)
        assert "no offload events" in str(pane.query_one("#offload-events").render())
        assert app.backend.offload is not None
        await app.backend.offload.refresh()
        await pilot.pause()
        assert [e.seq for e in pane.events] == [4, 3, 2, 1]
        text = "\n".join(screen_lines(app))
        # Newest first: 09:31:29 (seq 4) above 09:26:59 (seq 1); each with its reason.
        first, last = text.index("09:31:29 ws fence done"), text.index("09:26:59 ws fence done")
        assert first < text.index("09:29:59 box1 spill dry-run") < last
        assert "cpu 88% >= 80% for 11s" in text and "auto-offload on · fenced: ws" in text
        # A new event arrives on the next read and goes on top.
        from gridtui.model.offload import OffloadEvent, Trigger

        fake.offload_log.append(
            OffloadEvent(5, fake.clock, "ws", Trigger("cpu", 60, 70, 0), "unfence", "done")
        )
        await app.backend.offload.refresh()
        await pilot.pause()
        assert [e.seq for e in pane.events] == [5, 4, 3, 2, 1]
        await pilot.press("5", "enter")  # enter on the pane drills into the view
        await pilot.pause()
        assert isinstance(app.screen, OffloadScreen)


async def test_tuning_by_keys_changes_the_running_engines_threshold(
    app: GridApp, fake: FakeControl
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        view = await open_view(app, pilot)
        gauges = view.query_one(ThresholdGauges)
        assert [(r.node, r.resource) for r in gauges.rows] == [
            ("ws", "cpu"),
            ("ws", "memory"),
            ("ws", "gpu"),
        ]
        assert not gauges.rows[1].fires  # ws memory is ~63% against 85%
        await pilot.press("down", "t", *["shift+left"] * 6)  # 85 -> 55: ws would be fenced
        await pilot.pause()
        assert gauges.rows[1].threshold == 55 and gauges.rows[1].fires
        assert "would fence" in "\n".join(screen_lines(app))
        await pilot.press("escape", "up")
        await pilot.press("t", "left", "left", "shift+right")  # 80 - 2 + 5
        await pilot.pause()
        assert view.tuning and view.candidate == 83
        assert gauges.rows[0].threshold == 83 and gauges.rows[0].changed
        assert fake.offload_sets == []  # nothing applied before enter
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert fake.offload_policy.rules["cpu"].threshold == 83
        assert fake.offload_policy.rules["memory"].threshold == 85  # the others untouched
        assert not view.tuning
        assert app.offload.policy is not None and app.offload.policy.rules["cpu"].threshold == 83
        said = [m for m, _ in messages(app)]
        assert any("cpu threshold on ws: 83% (was 80%)" in m for m in said)
        assert any("No cluster file" in m for m in said)  # no file: no save offered
        assert isinstance(app.screen, OffloadScreen)

        # down picks memory; shift+left twice lowers it by 10
        await pilot.press("down", "t", "shift+left", "shift+left", "enter")
        await app.workers.wait_for_complete()
        assert fake.offload_policy.rules["memory"].threshold == 75


async def test_escape_reverts_and_leaves_the_engine_unchanged(
    app: GridApp, fake: FakeControl
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        view = await open_view(app, pilot)
        await pilot.press("t", "right", "right", "shift+right")
        assert view.candidate == 87
        await pilot.press("escape")
        await pilot.pause()
        assert not view.tuning and view.candidate is None
        assert view.query_one(ThresholdGauges).rows[0].threshold == 80
        assert fake.offload_sets == [] and fake.offload_policy.rules["cpu"].threshold == 80
        assert isinstance(app.screen, OffloadScreen)
        await pilot.press("escape")  # not tuning: back to the dashboard
        assert isinstance(app.screen, MainScreen)


async def test_a_refused_change_is_a_notification_and_tuning_stays(
    app: GridApp, fake: FakeControl
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        view = await open_view(app, pilot)
        await pilot.press("t", "left")
        fake.fail = Refused("the gridtui controller did not answer in 30s")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert ("the gridtui controller did not answer in 30s", "error") in messages(app)
        assert view.tuning and view.candidate == 79
        fake.fail = None
        await pilot.press(*["shift+left"] * 14)  # down to 9: at or under the hysteresis
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        assert any("at or under its hysteresis" in m for m, _ in messages(app))
        assert fake.offload_sets == []


async def test_apply_then_save_keeps_comments_and_config_check_passes(
    trace_path: Path, prefs_path: Path, fake: FakeControl, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    path = tmp_path / "lab.yaml"
    path.write_text(CLUSTER_FILE)
    app = build(trace_path, prefs_path, fake, path)
    async with app.run_test(size=SIZE) as pilot:
        await open_view(app, pilot)
        await pilot.press("t", "right", "enter")  # applied, then not saved
        await app.workers.wait_for_complete()
        await pilot.press("n")
        await app.workers.wait_for_complete()
        assert fake.offload_policy.rules["cpu"].threshold == 81
        assert path.read_text() == CLUSTER_FILE
        await pilot.press("t", "shift+left", "shift+left", "left", "enter")  # 81 -> 70
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "offload.thresholds.cpu: 70" in "\n".join(screen_lines(app))
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert any(m.startswith("Saved offload.thresholds.cpu") for m, _ in messages(app))
    text = path.read_text()
    assert "cpu: 70    # the owner's comfort limit" in text
    assert text.replace("cpu: 70 ", "cpu: 80 ") == CLUSTER_FILE  # nothing else moved
    assert cli_main(["config", "check", "-c", str(path)]) == 0
    assert "ok: cluster 'lab'" in capsys.readouterr().out


async def test_watch_opens_on_the_view_and_capital_a_toggles_after_a_confirmation(
    trace_path: Path, prefs_path: Path
) -> None:
    fake = FakeControl()  # the engine: off, holding no policy of its own
    backend = recorded_backend(trace_path, Prefs(prefs_path), ray_view=True)
    attach(backend, fake)
    app = make_app(backend, view="offload")  # what `gridtui offload watch` opens
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(100):  # the view opens after the first frame, then reads the engine
            await app.workers.wait_for_complete()
            await pilot.pause(0.1)
            if "auto-offload off · watching ws" in "\n".join(screen_lines(app)):
                break
        assert isinstance(app.screen, OffloadScreen)
        assert "auto-offload off · watching ws" in "\n".join(screen_lines(app))
        await pilot.press("A")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Turn auto-offload on?" in "\n".join(screen_lines(app))
        await pilot.press("n")
        await app.workers.wait_for_complete()
        assert fake.offload_sets == [] and not fake.offload_policy.enabled
        await pilot.press("A", "y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert fake.offload_policy.enabled
        assert ("Auto-offload is on", "information") in messages(app)
        await pilot.press("A", "y")
        await app.workers.wait_for_complete()
        assert not fake.offload_policy.enabled
        assert len(fake.offload_sets) == 2


async def test_the_view_lists_what_still_runs_on_a_fenced_node(
    app: GridApp, fake: FakeControl
) -> None:
    """Ray#41824: the fence keeps off CPU work only; the view says what is still there."""
    from gridtui.model.still_running import StillActor, StillRunning, StillTask

    async with app.run_test(size=SIZE) as pilot:
        view = await open_view(app, pilot)
        fenced = view.query_one("#offload-fenced")

        def shown() -> list[str]:
            return str(fenced.render()).splitlines()

        assert shown()[:6] == [
            "ws fenced (done: holding 4 CPU); still running there:",
            "  actor Watcher 'watcher' 9f3ac1d2 (no CPU, pid 4242)",
            "  actor Trainer 1c2d3e4f (1 CPU, pid 4301)",
            "  task index_shard (pid 4410, 97% CPU)",
            "  (gridtui's own, not listed: GridController)",
            "Ray#41824: zero-CPU work (actors and tasks) still starts on a fenced node; its actors "
            "and running tasks are listed (gridtui's own apart)",
        ]
        on_screen = "\n".join(screen_lines(app))
        assert "actor Watcher 'watcher' 9f3ac1d2 (no CPU, pid 4242)" in on_screen
        assert "task index_shard (pid 4410, 97% CPU)" in on_screen

        async def read() -> list[str]:
            assert app.backend.offload is not None
            await app.backend.offload.refresh()
            await pilot.pause()
            return shown()

        fake.offload_still = {"ws": StillRunning(own=("GridController",))}
        assert (await read())[1] == "  nothing else runs there"
        many = tuple(StillActor(f"A{i}", f"{i:08x}" + "0" * 24, 0.0) for i in range(20))
        fake.offload_still = {"ws": StillRunning(many, more=4)}
        lines = await read()
        assert lines[1:7] == [f"  actor A{i} {i:08x} (no CPU)" for i in range(6)]
        assert lines[7] == "  and 18 more (`gridtui offload auto --status` lists up to 20)"
        tasks = tuple(StillTask(f"t{i}", 100 + i) for i in range(9))
        fake.offload_still = {"ws": StillRunning(tasks=tasks)}
        lines = await read()
        assert lines[1:8] == [*(f"  task t{i} (pid {100 + i})" for i in range(6)),
                              "  and 3 more (`gridtui offload auto --status` lists up to 20)"]  # fmt: skip
        fake.offload_still = {"ws": StillRunning(tasks_error="not looked at: not watched")}
        assert (await read())[1] == "  tasks unknown: not looked at: not watched"
        fake.offload_still = None  # a controller older than the report
        assert (await read())[
            1
        ] == "  not reported (an older controller, or Ray lists the node dead)"
