"""The main screen: header, Nodes table, and the tabbed panes below it."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Input, TabbedContent, TabPane
from textual.worker import Worker

from gridtui.model.nodes import ClusterSnapshot
from gridtui.ui.access import grid_app
from gridtui.ui.controllers.cluster import ClusterController, ClusterIntent
from gridtui.ui.widgets.filter_bar import FilterBar
from gridtui.ui.widgets.header import ClusterHeader
from gridtui.ui.widgets.nodes_table import NodesTable
from gridtui.ui.widgets.sparklines import SparklinesPane


class MainScreen(Screen[None]):
    """Coordinates the panes: the table's cursor picks the node the other panes show."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "open_detail",
            "Detail",
            priority=True,
            tooltip="Open the selected node: history charts, per-core bars, facts",
        ),
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
            "escape", "clear_filter", "Clear filter", show=False, tooltip="Show every node again"
        ),
        # -- cluster lifecycle: each asks for confirmation first (controllers/cluster.py) ------
        Binding(
            "u", "start_cluster", "Start Ray", tooltip="Start Ray on every node not running it"
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
            "i",
            "install",
            "Install",
            show=False,
            tooltip="Install the console's Ray version on every node",
        ),
        Binding("l", "logs", "Logs", tooltip="The selected node's Ray logs (f follows)"),
        Binding(
            "o", "shell", "Shell", tooltip="Open a shell on the selected node (ssh); exit returns"
        ),
    ]

    def __init__(
        self, snapshot: ClusterSnapshot, *, warn: float, hot: float, loading: bool = False
    ) -> None:
        super().__init__()
        self._latest = snapshot
        self._warn, self._hot = warn, hot
        self.cluster = ClusterController(self)
        self._loading = loading
        self._recomposing = False

    def compose(self) -> ComposeResult:
        yield ClusterHeader(id="header")
        yield NodesTable(id="nodes", warn_percent=self._warn, hot_percent=self._hot)
        yield FilterBar(id="filter")
        # Later panes (boosts, memory objects, offload) are further tabs here.
        with TabbedContent(id="panes"), TabPane("History", id="tab-history"):
            yield SparklinesPane(id="sparklines")
        yield Footer()

    def on_mount(self) -> None:
        self.show_snapshot(self._latest)
        grid_app(self).snapshot_signal.subscribe(self, self.show_snapshot)
        self.query_one(NodesTable).focus()

    def show_snapshot(self, snapshot: ClusterSnapshot) -> None:
        self._latest = snapshot
        if self._recomposing:
            return  # loaded() shows the latest once the new panes are in
        if self._covered():
            return  # under an opaque screen (node detail): on_screen_resume shows the latest
        self.query_one(ClusterHeader).snapshot = snapshot
        table = self.query_one(NodesTable)
        table.show_snapshot(snapshot)
        panes = self.query_one(SparklinesPane)
        if panes.selected is None:
            panes.selected = table.current_node
        panes.show_snapshot(snapshot)

    async def loaded(self, *, warn: float, hot: float) -> None:
        """The cluster file is read: its alert thresholds colour the table from now on."""
        self._loading = False
        if (warn, hot) != (self._warn, self._hot):
            self._warn, self._hot = warn, hot
            self._recomposing = True
            try:
                await self.recompose()
            finally:
                self._recomposing = False
            self.show_snapshot(self._latest)
            self.table.focus()

    def on_screen_resume(self) -> None:
        self.show_snapshot(self._latest)

    def _covered(self) -> bool:
        """Hidden by an opaque screen above; see-through ones (help, confirm) still show it."""
        stack = self.app.screen_stack
        above = stack[stack.index(self) + 1 :] if self in stack else []
        return any(screen.styles.background.a >= 1 for screen in above)

    @property
    def table(self) -> NodesTable:
        return self.query_one(NodesTable)

    def selected_node(self) -> str | None:
        """The node under the cursor; when there is none, a notification says why."""
        node = self.table.current_node
        if node is None:
            if self.table.filter_text and self._latest.nodes:
                why = f"the filter {self.table.filter_text!r} matches no node (escape clears it)"
            elif not self._latest.nodes:
                why = "the cluster file is still being read" if self._loading else "no nodes"
            else:
                why = "move the cursor onto a node"
            self.notify(f"No node selected: {why}", severity="warning")
        return node

    def on_nodes_table_node_highlighted(self, message: NodesTable.NodeHighlighted) -> None:
        self.query_one(SparklinesPane).selected = message.name

    # -- actions --------------------------------------------------------------------------

    def action_open_detail(self) -> None:
        """Enter: in the filter it keeps the filter; on the table it opens the node."""
        if self.focused is self.query_one(FilterBar):
            self.query_one(FilterBar).display = False
            self.table.focus()
            return
        node = self.selected_node()
        if node is not None:
            grid_app(self).open_detail(node)

    def action_sort_next(self) -> None:
        self.table.cycle_sort()

    def action_sort_reverse(self) -> None:
        self.table.reverse_sort()

    def action_filter(self) -> None:
        bar = self.query_one(FilterBar)
        bar.display = True
        bar.focus()

    def action_clear_filter(self) -> None:
        bar = self.query_one(FilterBar)
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

    # -- cluster lifecycle, logs, shell: the flow lives in the controller -------------------

    def action_start_cluster(self) -> None:
        self.cluster.request("start")

    def action_stop_cluster(self) -> None:
        self.cluster.request("stop")

    def action_stop_node(self) -> None:
        self.cluster.request("stop", node=True)

    def action_install(self) -> None:
        self.cluster.request("install")

    def action_logs(self) -> None:
        self.cluster.open_logs()

    def action_shell(self) -> None:
        self.cluster.open_shell()

    def on_cluster_intent(self, message: ClusterIntent) -> None:
        self.cluster.confirm(message.operation)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        grid_app(self).report_worker_failure(event)
