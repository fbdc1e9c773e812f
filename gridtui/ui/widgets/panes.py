"""The dashboard's pane frames: each carries its own keys, so the footer shows the focused one's."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widget import Widget


class Pane(Vertical, can_focus=True):
    """A titled frame a digit key can focus (Sparklines, and the panes of the next issues)."""

    def __init__(
        self, title: str, *children: Widget, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(*children, id=id, classes=classes)
        self.border_title = title


class NodesPane(Vertical):
    """The Nodes table and its filter; its keys act on the selected node (the screen runs them)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "screen.sort_next", "Sort", tooltip="Sort the Nodes table by the next column"),
        Binding(
            "S", "screen.sort_reverse", "Reverse", tooltip="Reverse the Nodes table's sort order"
        ),
        Binding(
            "slash",
            "screen.filter",
            "Filter",
            key_display="/",
            tooltip="Filter nodes by name, host or state (enter keeps it)",
        ),
        Binding(
            "escape",
            "screen.clear_filter",
            "Clear filter",
            show=False,
            tooltip="Show every node again",
        ),
        # -- cluster lifecycle: each asks for confirmation first (controllers/cluster.py) ------
        Binding(
            "u",
            "screen.start_cluster",
            "Start Ray",
            tooltip="Start Ray on every node not running it",
        ),
        Binding(
            "D",
            "screen.stop_cluster",
            "Stop Ray",
            show=False,
            tooltip="Stop Ray on every node (workers, then head)",
        ),
        Binding("x", "screen.stop_node", "Stop node", tooltip="Stop Ray on the selected node only"),
        Binding(
            "N",
            "screen.drain_node",
            "Drain",
            show=False,
            tooltip="Drain the selected worker (fence, move objects, Ray's drain), or undrain it",
        ),
        Binding(
            "i",
            "screen.install",
            "Install",
            show=False,
            tooltip="Install the console's Ray version on every node",
        ),
        Binding("l", "screen.logs", "Logs", tooltip="The selected node's Ray logs (f follows)"),
        Binding(
            "o",
            "screen.shell",
            "Shell",
            tooltip="Open a shell on the selected node (ssh); exit returns",
        ),
        # -- boosts (controllers/boosts.py) --------------------------------------------------
        Binding(
            "b",
            "screen.boost_form",
            "Boost",
            tooltip="Boost the selected node: a form for type, amount and TTL",
        ),
        Binding(
            "plus",
            "screen.quick_boost('cpu')",
            "+1 CPU",
            key_display="+",
            tooltip="Boost the selected node by one more CPU, at once",
        ),
        Binding(
            "g",
            "screen.quick_boost('gpu')",
            "+1 GPU",
            show=False,
            tooltip="Boost the selected node by one more GPU, at once",
        ),
        Binding(
            "m",
            "screen.quick_boost('memory')",
            "+1 GiB",
            show=False,
            tooltip="Boost the selected node by one more GiB of memory, at once",
        ),
        Binding(
            "minus",
            "screen.release_newest",
            "Unboost",
            key_display="-",
            tooltip="Release the selected node's newest boost",
        ),
        Binding(
            "B",
            "screen.share_form",
            "Share",
            tooltip="Share an amount over the cluster: the strategy picks the nodes",
        ),
    ]
