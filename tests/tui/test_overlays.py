"""Overlays cost nothing: while one is open, what changes beneath does not redraw it."""

from __future__ import annotations

import dataclasses

import pytest
from textual.screen import Screen
from textual.widgets import Static

from gridtui.feeds import MEMORY, NODES, OFFLOAD, RESERVATIONS
from gridtui.model.objects import MemorySnapshot
from gridtui.model.offload_view import OffloadSnapshot
from gridtui.model.reservations import ReservationsSnapshot
from gridtui.ui.app import GridApp
from gridtui.ui.screens.main import MainScreen
from gridtui.ui.textual_private import PRIVATE_NAMES
from gridtui.ui.widgets.boosts_pane import BoostsPane
from gridtui.ui.widgets.memory_pane import MemoryPane
from gridtui.ui.widgets.offload_pane import OffloadPane

SIZE = (140, 40)
PANES = {"memory-empty", "boosts-empty", "offload-state", "offload-events"}
"""The words of the panes fed by polls (the Boosts, Memory and Offload panes)."""


def feed(app: GridApp, n: int) -> None:
    """What the back-end publishes in a second, each time with something new to say."""
    feeds = app.backend.feeds
    snap = app.backend.metrics.snapshot()
    feeds[NODES].publish(dataclasses.replace(snap, time=snap.time + n))
    feeds[RESERVATIONS].publish(ReservationsSnapshot(float(n), message=f"poll {n}"))
    feeds[MEMORY].publish(MemorySnapshot((), (), float(n), message=f"poll {n}"))
    feeds[OFFLOAD].publish(OffloadSnapshot(float(n), message=f"poll {n}"))


@pytest.mark.parametrize("key", ["question_mark", "ctrl+p"])
async def test_an_open_overlay_is_not_redrawn_by_updates_beneath(
    app: GridApp, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each update beneath a modal made Textual render the modal again, the whole screen
    beneath it included (4x the dashboard's cost on the demo): the panes wait for the
    modal to close, and the screen beneath stops asking for the modal to be redrawn."""
    renders: list[Screen[object]] = []
    original = Screen.render

    def counted(self: Screen[object]) -> object:
        if not isinstance(self, MainScreen):
            renders.append(self)
        return original(self)

    monkeypatch.setattr(Screen, "render", counted)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        feed(app, 0)
        await pilot.pause(0.3)
        await pilot.press(key)
        await pilot.pause(0.5)  # the overlay opens and draws
        overlay = app.screen
        assert not isinstance(overlay, MainScreen)
        assert renders, "the overlay was never drawn: the count below would prove nothing"
        renders.clear()
        for n in range(1, 6):
            feed(app, n)
            await pilot.pause(0.1)
        await pilot.pause(0.3)
        assert app.screen is overlay
        assert renders == []
        await pilot.press("escape")
        await pilot.pause(0.3)
        # Back on top, every pane shows the newest of what came meanwhile.
        main = app.screen
        assert isinstance(main, MainScreen)
        assert "poll 5" in str(main.query_one("#memory-empty").render())
        assert "poll 5" in str(main.query_one("#boosts-empty").render())
        assert main.query_one(BoostsPane).snapshot.message == "poll 5"
        assert "poll 5" in str(main.query_one("#offload-state").render())
        assert main.query_one(MemoryPane).snapshot.message == "poll 5"
        assert main.query_one(OffloadPane).snapshot.message == "poll 5"


async def test_a_pane_redraws_nothing_when_nothing_changed(
    app: GridApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same words again are not drawn again: a Static's update lays the screen out."""
    updates: list[str] = []
    original = Static.update

    def counted(self: Static, *args: object, **kwargs: object) -> None:
        if self.id in PANES:
            updates.append(self.id)
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    async with app.run_test(size=SIZE) as pilot:
        feed(app, 1)
        await pilot.pause(0.3)
        monkeypatch.setattr(Static, "update", counted)
        feeds = app.backend.feeds
        feeds[MEMORY].publish(MemorySnapshot((), (), 2.0, message="poll 1"))
        feeds[RESERVATIONS].publish(ReservationsSnapshot(2.0, message="poll 1"))
        feeds[OFFLOAD].publish(OffloadSnapshot(2.0, message="poll 1"))
        await pilot.pause(0.3)
        assert updates == []
        feeds[MEMORY].publish(MemorySnapshot((), (), 3.0, message="poll 2"))
        await pilot.pause(0.3)
        assert updates == ["memory-empty"]


def test_the_private_names_we_use_are_there() -> None:
    """A Textual upgrade that moves one fails here, not in the console (ui/textual_private.py)."""
    from textual.widget import Widget

    owners = {"Screen": Screen, "Widget": Widget}
    for name in PRIVATE_NAMES:
        owner, _, attr = name.partition(".")
        cls = owners[owner]
        assert hasattr(cls, attr) or attr in vars(Widget(id="probe")), name
