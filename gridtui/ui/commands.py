"""Command palette entries, generated from the same bindings the keys and the help use."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.app import App, SystemCommand
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widget import Widget

from gridtui.ui.screens.help import own_bindings
from gridtui.ui.screens.main import MainScreen

if TYPE_CHECKING:
    from gridtui.ui.app import GridApp

# The footer's one-word labels, spelled out where the palette has room for them.
TITLES = {
    "open_detail": "Node detail",
    "sort_next": "Sort by next column",
    "sort_reverse": "Reverse sort",
    "filter": "Filter nodes",
    "clear_filter": "Clear filter",
    "help": "Help: every key",
    "next_theme": "Next theme",
    "quit": "Quit gridtui",
    "start_cluster": "Start the Ray cluster",
    "stop_cluster": "Stop the whole Ray cluster",
    "stop_node": "Stop Ray on the selected node",
    "install": "Install Ray on every node",
    "logs": "Ray logs of the selected node",
    "shell": "Shell on the selected node",
}


def console_commands(app: GridApp, screen: Screen[object]) -> Iterator[SystemCommand]:
    """One entry per binding of the app, and of the main screen when it is showing."""
    owners: list[tuple[type[DOMNode], App[None] | Widget]] = [(type(app), app)]
    if isinstance(screen, MainScreen):
        owners.insert(0, (MainScreen, screen))
    for owner_class, target in owners:
        for binding in own_bindings(owner_class):
            title = TITLES.get(binding.action, binding.description)
            yield SystemCommand(
                title,
                binding.tooltip or binding.description,
                partial(target.run_action, binding.action),
            )
    for name in app.gridtui_themes:
        yield SystemCommand(
            f"Theme: {name}", "A gridtui theme (remembered)", partial(app.set_theme, name)
        )
