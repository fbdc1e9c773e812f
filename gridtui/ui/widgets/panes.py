"""The dashboard's pane frames: each carries its own keys, so the footer shows the focused one's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Input

from gridtui.ui.intents import Intent
from gridtui.ui.readonly import ReadOnlyAware
from gridtui.ui.widgets.boosts_pane import BoostIntent
from gridtui.ui.widgets.filter_bar import FilterBar
from gridtui.ui.widgets.nodes_table import NodesTable


class Pane(Vertical, can_focus=True):
    """A titled frame a digit key can focus (Sparklines, Offload events)."""

    def __init__(
        self, title: str, *children: Widget, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(*children, id=id, classes=classes)
        self.border_title = title

    def take_focus(self) -> None:
        """Its digit: the pane itself, or the widget in it that takes keys."""
        self.focus()

    def open_selected(self) -> bool:
        """Enter on it: whether it opened something (else the selected node's detail)."""
        return False


@dataclass
class ClusterIntent(Intent):
    """Start, stop, install, drain Ray; a node's logs or shell (controllers/cluster.py)."""

    op: Literal["start", "stop", "stop_node", "drain", "install", "logs", "shell"]


class NodesPane(ReadOnlyAware, Vertical):
    """The Nodes table and its filter; its keys act on the selected node: the sort and the
    filter here, the rest as intents to the screen's controllers."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "sort_next", "Sort", tooltip="Sort the Nodes table by the next column"),
        Binding("S", "sort_reverse", "Reverse", tooltip="Reverse the Nodes table's sort order"),
        Binding(
            "slash",
            "filter",
            "Filter",
            key_display="/",
            tooltip="Filter nodes by name, host or state (enter keeps it)",
        ),
        Binding(
            "escape",
            "clear_filter",
            "Clear filter",
            show=False,
            tooltip="Show every node again",
        ),
        # -- cluster lifecycle: each asks for confirmation first (controllers/cluster.py) ------
        Binding(
            "u",
            "start_cluster",
            "Start Ray",
            tooltip="Start Ray on every node not running it",
        ),
        Binding(
            "D",
            "stop_cluster",
            "Stop Ray",
            show=False,
            tooltip="Stop Ray on every node (workers, then head)",
        ),
        Binding("x", "stop_node", "Stop node", tooltip="Stop Ray on the selected node only"),
        Binding(
            "N",
            "drain_node",
            "Drain",
            show=False,
            tooltip="Drain the selected worker (fence, move objects, Ray's drain), or undrain it",
        ),
        Binding(
            "i",
            "install",
            "Install",
            show=False,
            tooltip="Install the console's Ray version on every node",
        ),
        Binding("l", "logs", "Logs", tooltip="The selected node's Ray logs (f follows)"),
        Binding(
            "o",
            "shell",
            "Shell",
            tooltip="Open a shell on the selected node (ssh); exit returns",
        ),
        # -- boosts (controllers/boosts.py) --------------------------------------------------
        Binding(
            "b",
            "boost_form",
            "Boost",
            tooltip="Boost the selected node: a form for type, amount and TTL",
        ),
        Binding(
            "plus",
            "quick_boost('cpu')",
            "+1 CPU",
            key_display="+",
            tooltip="Boost the selected node by one more CPU, at once",
        ),
        Binding(
            "g",
            "quick_boost('gpu')",
            "+1 GPU",
            show=False,
            tooltip="Boost the selected node by one more GPU, at once",
        ),
        Binding(
            "m",
            "quick_boost('memory')",
            "+1 GiB",
            show=False,
            tooltip="Boost the selected node by one more GiB of memory, at once",
        ),
        Binding(
            "minus",
            "release_newest",
            "Unboost",
            key_display="-",
            tooltip="Release the selected node's newest boost",
        ),
        Binding(
            "B",
            "share_form",
            "Share",
            tooltip="Share an amount over the cluster: the strategy picks the nodes",
        ),
    ]

    PALETTE: ClassVar[dict[str, str]] = {
        "sort_next": "Sort by next column",
        "sort_reverse": "Reverse sort",
        "filter": "Filter nodes",
        "clear_filter": "Clear filter",
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
    }
    """The command palette's titles for these keys (the footer's words are too short)."""

    @property
    def table(self) -> NodesTable:
        return self.query_one(NodesTable)

    def take_focus(self) -> None:
        self.table.focus()

    def open_selected(self) -> bool:
        return False  # the screen opens the selected node

    # -- the sort and the filter ------------------------------------------------------------

    def action_sort_next(self) -> None:
        self.table.cycle_sort()

    def action_sort_reverse(self) -> None:
        self.table.reverse_sort()

    async def action_filter(self) -> None:
        bar = await self._filter_bar()
        bar.display = True
        bar.focus()

    async def _filter_bar(self) -> FilterBar:
        """The `/` line, made on first use: hidden until then, it cost the first frame an
        input's styles and cursor for nothing."""
        found = self.query(FilterBar)
        if found:
            return found.first()
        bar = FilterBar(id="filter")
        await self.mount(bar)
        return bar

    def action_clear_filter(self) -> None:
        for bar in self.query(FilterBar):
            bar.value = ""
            bar.display = False
        self.table.filter_text = ""
        self.table.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.filter_text = event.value

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.query_one(FilterBar).display = False
        self.table.focus()

    # -- intents: the screen routes each to its controller ---------------------------------

    def action_start_cluster(self) -> None:
        self.post_message(ClusterIntent("start"))

    def action_stop_cluster(self) -> None:
        self.post_message(ClusterIntent("stop"))

    def action_stop_node(self) -> None:
        self.post_message(ClusterIntent("stop_node"))

    def action_drain_node(self) -> None:
        self.post_message(ClusterIntent("drain"))

    def action_install(self) -> None:
        self.post_message(ClusterIntent("install"))

    def action_logs(self) -> None:
        self.post_message(ClusterIntent("logs"))

    def action_shell(self) -> None:
        self.post_message(ClusterIntent("shell"))

    def action_boost_form(self) -> None:
        self.post_message(BoostIntent("form"))

    def action_quick_boost(self, rtype: str) -> None:
        self.post_message(BoostIntent("quick", rtype))

    def action_release_newest(self) -> None:
        self.post_message(BoostIntent("release_newest"))

    def action_share_form(self) -> None:
        self.post_message(BoostIntent("share"))
