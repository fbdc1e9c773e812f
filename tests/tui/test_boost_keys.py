"""Pilot tests of the dashboard's boost keys and forms, on recorded data and a fake controller."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fake_control import LAB_NOW, FakeControl, attach, lab_reservations
from recorded import recorded_backend
from textual.widgets import Input, Static, TabbedContent

from gridtui.model.reservations import ReservationEvent
from gridtui.prefs import Prefs
from gridtui.services.control.client import Refused
from gridtui.ui.app import GridApp, make_app
from gridtui.ui.screens.boost_form import BoostForm, ShareForm
from gridtui.ui.screens.confirm import ConfirmScreen
from gridtui.ui.screens.main import MainScreen
from gridtui.ui.widgets import boosts_pane
from gridtui.ui.widgets.boosts_pane import BoostsPane
from gridtui.ui.widgets.nodes_table import NodesTable

SIZE = (140, 40)


@pytest.fixture
def fake() -> FakeControl:
    return FakeControl()


@pytest.fixture
def app(trace_path: Path, prefs_path: Path, fake: FakeControl) -> GridApp:
    backend = recorded_backend(trace_path, Prefs(prefs_path), ray_view=True)
    attach(backend, fake)
    return make_app(backend)


@pytest.fixture(autouse=True)
def pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(boosts_pane, "now", lambda: LAB_NOW + 5)


def messages(app: GridApp) -> list[tuple[str, str]]:
    return [(n.message, n.severity) for n in app._notifications]


def table(app: GridApp) -> NodesTable:
    return app.screen.query_one(NodesTable)


def pane(app: GridApp) -> BoostsPane:
    return app.screen.query_one(BoostsPane)


async def test_quick_keys_boost_the_selected_node_and_minus_releases(
    app: GridApp, fake: FakeControl
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        node = table(app).current_node
        assert node is not None
        assert "no boosts: b on a node" in str(pane(app).query_one("#boosts-empty", Static).content)
        await pilot.press("plus", "g", "m")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert [c[:4] for c in fake.calls] == [
            ("boost", node, "cpu", 1.0),
            ("boost", node, "gpu", 1.0),
            ("boost", node, "memory", 1024**3),
        ]
        assert (pane(app).rows[0].node, pane(app).rows[0].type) == (node, "memory")
        assert len(pane(app).rows) == 3
        assert table(app).get_cell(node, "reserved") == "1 CPU 1 GPU 1 GiB"
        assert any("is active" in m for m, _ in messages(app))

        await pilot.press("minus")  # the newest: the memory boost
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert fake.calls[-1] == ("release", "f003")
        assert table(app).get_cell(node, "reserved") == "1 CPU 1 GPU"
        assert any(m.startswith("Released boost f003") for m, _ in messages(app))


async def test_minus_without_a_boost_and_a_refusal_change_nothing(
    app: GridApp, fake: FakeControl
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("minus")
        await pilot.pause()
        assert fake.calls == []
        assert any(m.startswith("No boost on") and s == "warning" for m, s in messages(app))
        fake.fail = Refused("worker-1 has 0 CPU free, asked 1 CPU")
        await pilot.press("plus")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert ("worker-1 has 0 CPU free, asked 1 CPU", "error") in messages(app)
        assert fake.snapshot.reservations == ()
        assert pane(app).rows == []


async def test_boost_form_checks_against_free_resources(app: GridApp, fake: FakeControl) -> None:
    async with app.run_test(size=SIZE) as pilot:
        node = table(app).current_node
        assert node == "box1"  # 3 of its 8 CPUs free in the recorded Ray view
        await pilot.press("b")
        form = app.screen
        assert isinstance(form, BoostForm) and form.node == "box1"
        assert "free on box1: 3 CPU" in str(form.query_one("#form-amount-hint").content)
        amount = form.query_one("#form-amount", Input)
        amount.value = "4"
        await pilot.pause()
        assert "more than box1 has free: 3 CPU free" in form.error
        await pilot.press("enter")  # refused by the form: nothing sent
        assert app.screen is form and fake.calls == []
        amount.value = "abc"
        await pilot.pause()
        assert "not a number" in form.error
        amount.value = "2"
        form.query_one("#form-ttl", Input).value = "30m"
        await pilot.pause()
        assert form.error == ""
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert fake.calls == [("boost", "box1", "cpu", 2.0, 1800.0)]
        assert pane(app).rows[0].expires == LAB_NOW + 1800

        await pilot.press("b")
        assert isinstance(app.screen, BoostForm)
        await pilot.press("escape")  # cancelled: nothing sent
        assert isinstance(app.screen, MainScreen)
        assert len(fake.calls) == 1


async def test_r_releases_the_selected_reservation_after_a_yes(
    trace_path: Path, prefs_path: Path
) -> None:
    fake = FakeControl(lab_reservations())
    backend = recorded_backend(trace_path, Prefs(prefs_path), ray_view=True)
    app = make_app(backend)
    attach(backend, fake)
    async with app.run_test(size=SIZE) as pilot:
        assert len(pane(app).rows) == 5
        assert table(app).get_cell("ws", "reserved") == "4 CPU 2 GiB"
        await pilot.press("3")
        await pilot.pause()
        assert app.focused is pane(app).table
        await pilot.press("down")
        chosen = pane(app).current
        assert chosen is not None
        await pilot.press("r")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert fake.calls == []
        await pilot.press("r", "y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert fake.calls == [("release", chosen.id)]
        assert chosen.id not in [r.id for r in pane(app).rows]


async def test_share_form_shows_the_plan_before_submitting(app: GridApp, fake: FakeControl) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("B")
        form = app.screen
        assert isinstance(form, ShareForm)
        form.query_one("#form-amount", Input).value = "2"
        form.query_one("#form-strategy", Input).value = "spread"
        await pilot.pause()
        await form.workers.wait_for_complete()
        await pilot.pause()
        shown = str(form.query_one("#form-plan", Static).content)
        assert "would use: box1 1 CPU, box2 1 CPU" in shown
        assert "spread: fake" in shown
        assert not any(c[0] == "share" for c in fake.calls)  # a plan reserves nothing
        form.query_one("#form-strategy", Input).value = "nearest"
        await pilot.pause()
        assert "unknown strategy 'nearest'" in form.error
        form.query_one("#form-strategy", Input).value = "spread"
        await pilot.pause()
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        assert fake.calls[-1] == ("share", "cpu", 2.0, "spread", None)


async def test_lost_reservations_alert_and_digits_focus_panes(
    app: GridApp, fake: FakeControl
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        fake.emit(ReservationEvent(1, LAB_NOW, "lost", "e870", "box3", "boost e870 lost: box3 died", "error"))  # fmt: skip
        fake.emit(ReservationEvent(2, LAB_NOW, "created", "f001", "ws", "created", "information"))
        await pilot.pause()
        assert ("boost e870 lost: box3 died", "error") in messages(app)
        assert not any(m == "created" for m, _ in messages(app))
        for key, pane_id in (("2", "spark-pane"), ("4", "memory-pane"), ("5", "offload-pane")):
            await pilot.press(key)
            await pilot.pause()
            assert app.focused is not None
            assert pane_id in {n.id for n in app.focused.ancestors_with_self}  # it or its table
        await pilot.press("1")
        await pilot.pause()
        assert app.focused is table(app)


async def test_small_terminal_collapses_to_tabs_keeping_the_keys(
    app: GridApp, fake: FakeControl
) -> None:
    async with app.run_test(size=(90, 28)) as pilot:
        tabs = app.screen.query_one(TabbedContent)
        await pilot.press("3")
        await pilot.pause()
        assert tabs.active == "tab-3"
        assert app.focused is pane(app).table
        await pilot.press("1")
        await pilot.pause()
        assert tabs.active == "tab-1" and app.focused is table(app)
        await pilot.press("plus")
        await app.workers.wait_for_complete()
        assert fake.calls and fake.calls[0][0] == "boost"
        await pilot.resize_terminal(140, 40)
        await pilot.pause()
        assert not app.screen.query(TabbedContent)
        assert app.focused is table(app)


async def test_no_controller_yet_says_so(app: GridApp, fake: FakeControl) -> None:
    app.backend.control = None
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("plus")
        await pilot.pause()
        assert ("Ray is not connected yet: no boosts", "warning") in messages(app)
        assert fake.calls == []


async def test_n_drains_the_selected_node_after_a_confirmation_and_undrains_it(
    app: GridApp, fake: FakeControl
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        node = table(app).current_node
        assert node is not None
        table(app).focus()
        await pilot.press("N")
        await until_confirm(app, pilot)
        await pilot.press("n")  # no: nothing changes
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert ("node_drain", node) not in fake.calls and fake.drained_nodes == set()
        await pilot.press("N")
        await until_confirm(app, pilot)
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert fake.drained_nodes == {node}
        assert any(m.startswith(f"Drained {node}: Ray done") for m, _ in messages(app))
        await pilot.press("N")  # drained now: the same key undrains
        await until_confirm(app, pilot)
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert fake.drained_nodes == set() and ("node_undrain", node) in fake.calls
        assert (f"Undrained {node}: fence done", "information") in messages(app)


async def until_confirm(app: GridApp, pilot: Any) -> None:
    """The drain key asks the controller first, then shows its confirmation."""
    for _ in range(500):
        if isinstance(app.screen, ConfirmScreen):
            return
        await pilot.pause()
    raise AssertionError("no confirmation shown")


async def test_a_pending_request_says_why_ray_keeps_it_waiting(
    app: GridApp, fake: FakeControl
) -> None:
    why = "waiting for Ray: another placement group is pending on box1"
    fake.wait_reason = why
    async with app.run_test(size=SIZE) as pilot:
        node = table(app).current_node
        await pilot.press("plus")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert (f"boost f001 (1 CPU on {node}) is pending: {why}", "warning") in messages(app)
        # The Boosts pane's details of a pending row say it too.
        pending = lab_reservations().reservations[0]
        assert pending.state == "pending"
        fake.publish((pending.replace(waiting=why),))
        await pilot.press("3")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert any(m.endswith(f"pending: {why}") for m, _ in messages(app))


async def test_a_node_ray_drains_shows_drain_in_the_ray_column(app: GridApp) -> None:
    from dataclasses import replace

    from recorded import lab_ray_view

    async with app.run_test(size=SIZE) as pilot:
        assert table(app).get_cell("box2", "ray") == "alive"
        view = lab_ray_view()
        view["box2"] = replace(view["box2"], draining=True)
        grid = app.backend
        grid.ray_view.set(True, view)
        for _ in range(100):  # the view is published within its coalescing window
            if table(app).get_cell("box2", "ray") != "alive":
                break
            await pilot.pause(0.05)
        assert table(app).get_cell("box2", "ray") == "drain"
        assert table(app).get_cell("box3", "ray") == "dead"
