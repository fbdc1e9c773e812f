"""Command palette entries, generated from the same bindings the keys and the help use."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.app import App, SystemCommand
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widget import Widget

from gridtui.ui.readonly import changes_cluster
from gridtui.ui.screens.help import own_bindings
from gridtui.ui.screens.main import MainScreen
from gridtui.ui.widgets.boosts_pane import BoostsPane
from gridtui.ui.widgets.memory_pane import MemoryPane
from gridtui.ui.widgets.panes import NodesPane

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
    "boost_form": "Boost the selected node…",
    "quick_boost('cpu')": "Boost the selected node: +1 CPU",
    "quick_boost('gpu')": "Boost the selected node: +1 GPU",
    "quick_boost('memory')": "Boost the selected node: +1 GiB memory",
    "release_newest": "Release the selected node's newest boost",
    "share_form": "Share an amount over the cluster…",
    "release_reservation": "Release the selected reservation",
    "open_offload": "Open the Offload view (gauges, threshold tuning, events)",
    "memory_store": "Store a file in the cluster's memory…",
    "memory_retrieve": "Retrieve the selected stored object…",
    "memory_delete": "Delete the selected stored object",
    "open_work": "Open the Work view (jobs, actors and tasks by node)",
    "work_logs": "Work: logs of the selected job or actor",
    "stop_work": "Work: stop the selected job or kill the actor…",
    "job_form": "Work: submit a job…",
}


def console_commands(app: GridApp, screen: Screen[object]) -> Iterator[SystemCommand]:
    """One entry per binding of the app, and of the main screen when it is showing."""
    owners: list[tuple[type[DOMNode], App[None] | Widget]] = [(type(app), app)]
    if isinstance(screen, MainScreen):
        # The panes' keys name screen actions ("screen.sort_next"): the screen runs them.
        owners[:0] = [
            (MainScreen, screen),
            (NodesPane, screen),
            (BoostsPane, screen),
            (MemoryPane, screen),
        ]
    if type(screen).__name__ == "WorkScreen":  # its keys too, without loading it before
        owners[:0] = [(type(screen), screen)]
    for owner_class, target in owners:
        for binding in own_bindings(owner_class):
            if not binding.description:
                continue  # the digits: focusing a pane is a key, not a command
            action = binding.action.removeprefix("screen.")
            if app.read_only and changes_cluster(action):
                continue  # refused anyway (GridApp.run_action): not offered
            title = TITLES.get(action, binding.description)
            yield SystemCommand(
                title,
                binding.tooltip or binding.description,
                partial(target.run_action, action),
            )
    for name in app.gridtui_themes:
        yield SystemCommand(
            f"Theme: {name}", "A gridtui theme (remembered)", partial(app.set_theme, name)
        )
