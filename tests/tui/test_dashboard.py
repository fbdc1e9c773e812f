"""The pane registry: every pane reached by its digit, every intent taken by one controller."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest

import gridtui.ui
from gridtui.ui.app import GridApp
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
