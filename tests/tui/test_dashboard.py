"""The pane registry: every pane reached by its digit, every intent taken by one controller."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest

import gridtui.ui
from gridtui.feeds import MEMORY
from gridtui.model.objects import MemorySnapshot
from gridtui.ui.app import GridApp
from gridtui.ui.bridge import follow
from gridtui.ui.dashboard import PANES, PANES_HELP
from gridtui.ui.intents import Intent
from gridtui.ui.screens.main import MainScreen

SIZE = (140, 40)


def intent_types() -> set[type[Intent]]:
    for info in pkgutil.walk_packages(gridtui.ui.__path__, "gridtui.ui."):
        importlib.import_module(info.name)
    found: set[type[Any]] = set()
    stack: list[type[Any]] = [Intent]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        found.add(cls)
    return found - {Intent}


def test_every_intent_is_taken_by_exactly_one_registered_controller() -> None:
    taken = [c.TAKES for pane in PANES for c in pane.controllers]
    assert len(taken) == len(set(taken)), "two controllers take one intent"
    intents = intent_types()
    assert len(intents) >= 3  # cluster, boosts, memory: not a walk that found nothing
    assert intents == set(taken), "an intent no controller takes goes nowhere"


def test_the_digit_line_names_every_pane_in_order() -> None:
    words = [pane.short for pane in PANES]
    assert "Focus a pane: " + ", ".join(f"{n} {w}" for n, w in enumerate(words, 1)) == PANES_HELP


@pytest.mark.parametrize("size", [SIZE, (90, 28)], ids=["dashboard", "tabs"])
async def test_each_digit_focuses_inside_its_pane(app: GridApp, size: tuple[int, int]) -> None:
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MainScreen)
        assert len(screen.panes) == len(PANES) >= 5
        for n, pane in enumerate(screen.panes, 1):
            await pilot.press(str(n))
            await pilot.pause(0.2)
            assert screen.focused is not None
            assert pane in screen.focused.ancestors_with_self, (n, screen.focused)


async def test_the_bridge_delivers_the_newest_state_and_every_alert(app: GridApp) -> None:
    """A burst of one feed's values ends on the newest (queued ones may be replaced); each
    alert of a burst is its own notification (events are never replaced)."""
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        feeds = app.backend.feeds
        seen: list[str] = []
        follow(app.screen, MEMORY, lambda snap: seen.append(snap.message), now=False)
        for n in range(5):
            feeds[MEMORY].publish(MemorySnapshot((), (), float(n), message=f"poll {n}"))
        for word in ("first", "second", "third"):
            app.backend.alerts.raise_alert("box1", "test", f"{word} alert", "error")
        await pilot.pause(0.5)
        assert seen and seen[-1] == "poll 4" and len(seen) <= 5
        assert app.memory.message == "poll 4"
        shown = [n.message for n in app._notifications]
        assert [m for m in shown if m.endswith(" alert")] == [
            "first alert",
            "second alert",
            "third alert",
        ]
