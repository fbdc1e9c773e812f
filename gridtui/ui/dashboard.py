"""The dashboard's panes in digit order, with their controllers: the one list a new pane joins."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from textual.dom import DOMNode
from textual.widget import Widget

from gridtui.ui.controllers.boosts import BoostsController
from gridtui.ui.controllers.cluster import ClusterController
from gridtui.ui.controllers.memory import MemoryController
from gridtui.ui.intents import Controller
from gridtui.ui.widgets.boosts_pane import BoostsPane
from gridtui.ui.widgets.memory_pane import MemoryPane
from gridtui.ui.widgets.nodes_table import NodesTable
from gridtui.ui.widgets.offload_pane import OffloadPane
from gridtui.ui.widgets.panes import NodesPane, Pane
from gridtui.ui.widgets.sparklines import SparklinesPane
from gridtui.ui.widgets.transfer_panel import TransferPanel


class DashboardPane(Protocol):
    def take_focus(self) -> None:
        """Its digit: the pane, or the widget in it that takes keys."""

    def open_selected(self) -> bool:
        """Enter on it: whether it opened something (else the selected node's detail)."""


@dataclass(frozen=True)
class Thresholds:
    """The cluster file's alert figures, which colour the Nodes table."""

    warn: float
    hot: float


@dataclass(frozen=True)
class PaneEntry:
    """One pane of the dashboard. Its class gives the rest: its keys (BINDINGS, in the
    footer, the help and the palette, titled by PALETTE), their read-only classes
    (CHANGES_CLUSTER, LOOKS_ONLY), what its digit focuses (`take_focus`) and what enter
    opens (`open_selected`); it follows the feeds it shows (ui/bridge.py)."""

    title: str
    """Its tab's title, and its border's after the digit."""
    short: str
    """Its word in the help's line for the digit keys."""
    kind: type[Widget]
    """The class whose keys the palette offers (run on the pane, which posts intents)."""
    make: Callable[[Thresholds], Widget]
    row: Literal["top", "bottom"]
    """Its row on a large terminal (a small one shows every pane as a tab)."""
    help: tuple[tuple[str, type[DOMNode]], ...] = ()
    """(section, class) for the help: each class whose keys work in the pane."""
    controllers: tuple[type[Controller], ...] = ()
    """The flows behind its keys: the main screen routes its intents to them."""


def _nodes(t: Thresholds) -> Widget:
    # The filter line joins the table on the first `/` (NodesPane._filter_bar).
    table = NodesTable(id="nodes", warn_percent=t.warn, hot_percent=t.hot)
    return NodesPane(table, id="nodes-pane")


PANES: tuple[PaneEntry, ...] = (
    PaneEntry(
        "Nodes",
        "Nodes",
        NodesPane,
        _nodes,
        "top",
        (("Nodes pane", NodesPane), ("Nodes table", NodesTable)),
        (ClusterController, BoostsController),
    ),
    PaneEntry(
        "Sparklines",
        "Sparklines",
        Pane,
        lambda _: Pane("2 Sparklines", SparklinesPane(id="sparklines"), id="spark-pane"),
        "top",
    ),
    PaneEntry(
        "Boosts & allocations",
        "Boosts",
        BoostsPane,
        lambda _: BoostsPane(id="boosts-pane"),
        "bottom",
        (("Boosts pane", BoostsPane),),
    ),
    PaneEntry(
        "Memory objects",
        "Memory",
        MemoryPane,
        lambda _: MemoryPane(id="memory-pane"),
        "bottom",
        (("Memory pane", MemoryPane), ("Memory transfer", TransferPanel)),
        (MemoryController,),
    ),
    PaneEntry(
        "Offload events",
        "Offload",
        OffloadPane,
        lambda _: OffloadPane(id="offload-pane"),
        "bottom",
    ),
)

PANES_HELP = "Focus a pane: " + ", ".join(f"{n} {p.short}" for n, p in enumerate(PANES, 1))
