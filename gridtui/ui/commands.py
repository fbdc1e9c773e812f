"""Command palette entries, generated from the same bindings the keys and the help use."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.app import App, SystemCommand
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widget import Widget

from gridtui.ui.dashboard import PANES
from gridtui.ui.readonly import changes_cluster
from gridtui.ui.screens.help import own_bindings
from gridtui.ui.screens.main import MainScreen

if TYPE_CHECKING:
    from gridtui.ui.app import GridApp

# The footer's one-word labels, spelled out where the palette has room for them (each pane
# spells out its own keys' in its PALETTE).
TITLES = {
    "open_detail": "Node detail",
    "help": "Help: every key",
    "next_theme": "Next theme",
    "quit": "Quit gridtui",
    "open_offload": "Open the Offload view (gauges, threshold tuning, events)",
    "open_work": "Open the Work view (jobs, actors and tasks by node)",
}


def console_commands(app: GridApp, screen: Screen[object]) -> Iterator[SystemCommand]:
    """One entry per binding of the app, and of the main screen and its panes when it is
    showing (each pane runs its own keys' actions: they post its intents)."""
    owners: list[tuple[type[DOMNode], App[None] | Widget]] = [(type(app), app)]
    if isinstance(screen, MainScreen):
        panes = [(entry.kind, pane) for entry, pane in zip(PANES, screen.panes, strict=True)]
        owners[:0] = [(MainScreen, screen), *panes]
    if type(screen).__name__ == "WorkScreen":  # its keys too, without loading it before
        owners[:0] = [(type(screen), screen)]
    for owner_class, target in owners:
        titles = TITLES | owner_class.__dict__.get("PALETTE", {})
        for binding in own_bindings(owner_class):
            if not binding.description:
                continue  # the digits: focusing a pane is a key, not a command
            action = binding.action
            if app.read_only and changes_cluster(action):
                continue  # refused anyway (GridApp.run_action): not offered
            title = titles.get(action, binding.description)
            yield SystemCommand(
                title,
                binding.tooltip or binding.description,
                partial(target.run_action, action),
            )
    for name in app.gridtui_themes:
        yield SystemCommand(
            f"Theme: {name}", "A gridtui theme (remembered)", partial(app.set_theme, name)
        )
