"""Every key of the console by where it works: the help's rows, and docs/keys.md's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import App
from textual.binding import Binding

from gridtui.ui.dashboard import PANES, PANES_HELP
from gridtui.ui.screens.cluster_progress import ClusterProgressScreen
from gridtui.ui.screens.confirm import ConfirmScreen
from gridtui.ui.screens.help import HelpScreen, Section, key_rows
from gridtui.ui.screens.main import MainScreen
from gridtui.ui.screens.node_detail import NodeDetailScreen
from gridtui.ui.screens.offload import OffloadScreen
from gridtui.ui.screens.ray_logs import RayLogScreen
from gridtui.ui.screens.work import work_help_sections

if TYPE_CHECKING:
    from gridtui.ui.app import GridApp


def help_sections(app: GridApp) -> list[Section]:
    """The app's keys, the dashboard's, each pane's (ui/dashboard.py), then each screen's."""
    return [
        ("Everywhere", type(app), None),
        ("Everywhere", App, frozenset({"ctrl+q"})),
        ("Dashboard", MainScreen, None),
        *((where, owner, None) for pane in PANES for where, owner in pane.help),
        ("Node detail", NodeDetailScreen, None),
        ("Ray logs", RayLogScreen, None),
        ("Offload view", OffloadScreen, None),
        *work_help_sections(),
        ("Confirmation", ConfirmScreen, None),
        ("Cluster progress", ClusterProgressScreen, None),
        ("Help", HelpScreen, None),
    ]


def help_rows(app: GridApp) -> list[tuple[str, str, str]]:
    """(where, key, what), in the help's order: the palette and the digits get one row each."""
    rows = key_rows(app, help_sections(app))
    palette = app.get_key_display(Binding(app.COMMAND_PALETTE_BINDING, "command_palette"))
    rows.insert(1, ("Everywhere", palette, "Command palette (every action)"))
    at = next(i for i, row in enumerate(rows) if row[0] == "Dashboard")
    rows.insert(at + 1, ("Dashboard", f"1-{len(PANES)}", PANES_HELP))
    at = next(i for i, row in enumerate(rows) if row[0] == "Offload view")
    rows[at + 1 : at + 1] = [("Offload view", k, w) for k, w in OffloadScreen.HELP_ROWS]
    return rows
