"""The main screen: the dashboard of every pane at once, or tabs on a small terminal."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Input
from textual.worker import Worker

from gridtui.feeds import NODES
from gridtui.model.nodes import ClusterSnapshot
from gridtui.ui.access import grid_app
from gridtui.ui.bridge import follow
from gridtui.ui.controllers.boosts import BoostsController
from gridtui.ui.controllers.cluster import ClusterController, ClusterIntent
from gridtui.ui.controllers.memory import MemoryController
from gridtui.ui.readonly import ReadOnlyAware
from gridtui.ui.textual_private import QuietBeneath
from gridtui.ui.widgets.boosts_pane import BoostsPane
from gridtui.ui.widgets.filter_bar import FilterBar
from gridtui.ui.widgets.footer import KeysFooter
from gridtui.ui.widgets.header import ClusterHeader
from gridtui.ui.widgets.memory_pane import MemoryPane
from gridtui.ui.widgets.nodes_table import NodesTable
from gridtui.ui.widgets.offload_pane import OffloadPane
from gridtui.ui.widgets.panes import NodesPane, Pane
from gridtui.ui.widgets.sparklines import SparklinesPane

PANE_TITLES = ("Nodes", "Sparklines", "Boosts & allocations", "Memory objects", "Offload events")
PANE_IDS = ("nodes-pane", "spark-pane", "boosts-pane", "memory-pane", "offload-pane")
PANES_HELP = "Focus a pane: 1 Nodes, 2 Sparklines, 3 Boosts, 4 Memory, 5 Offload"
COMPACT_WIDTH, COMPACT_HEIGHT = 100, 30
"""Below either, the panes are tabs (same digit keys) instead of all at once."""


class MainScreen(ReadOnlyAware, QuietBeneath[None]):
    """Coordinates the panes: the table's cursor picks the node the other panes show."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "open_detail",
            "Detail",
            priority=True,
            tooltip="Open the selected node (history charts, per-core bars), reservation or object",
        ),
        Binding(
            "O",
            "open_offload",
            "Offload",
            show=False,
            tooltip="Open the Offload view (gauges, tuning, events)",
        ),
        # While a transfer runs, escape is its cancel whatever has the focus (the filter, a
        # pane); otherwise the action skips and escape goes where it did. (Not check_action:
        # a binding coming and going rebuilds the footer, 0.1-0.2 s as the panel opens.)
        Binding("escape", "cancel_transfer", "", show=False, priority=True),
        # Digits: one row in the help and the palette (app.action_help), not five.
        *(Binding(str(n), f"focus_pane({n})", "", show=False) for n in range(1, 6)),
    ]

    def __init__(
        self, snapshot: ClusterSnapshot, *, warn: float, hot: float, loading: bool = False
    ) -> None:
        super().__init__()
        self._latest = snapshot
        self._warn, self._hot = warn, hot
        self.cluster = ClusterController(self)
        self.boosts = BoostsController(self)
        self.memory = MemoryController(self)
        self._loading = loading
        self._recomposing = False
        self._relayout_due = False
        self.compact = False
        """Tabs instead of the dashboard: the terminal is small."""

    def _panes(self) -> list[Widget]:
        """The five panes, in digit order; memory and offload are filled by later issues."""
        # The filter line joins the table on the first `/` (_filter_bar).
        nodes = NodesPane(
            NodesTable(id="nodes", warn_percent=self._warn, hot_percent=self._hot),
            id="nodes-pane",
        )
        spark = Pane("2 Sparklines", SparklinesPane(id="sparklines"), id="spark-pane")
        # Room laid out for the next issues; until then nothing is drawn there.
        memory = MemoryPane(id="memory-pane")
        offload = OffloadPane(id="offload-pane")
        return [nodes, spark, BoostsPane(id="boosts-pane"), memory, offload]

    def compose(self) -> ComposeResult:
        yield ClusterHeader(id="header")
        size = self.app.size
        self.compact = size.width < COMPACT_WIDTH or size.height < COMPACT_HEIGHT
        panes = self._panes()
        if self.compact:
            # Imported only here: the dashboard, the common case, draws without them.
            from textual.widgets import TabbedContent, TabPane

            with TabbedContent(id="panes"):
                for n, (title, pane) in enumerate(zip(PANE_TITLES, panes, strict=True), 1):
                    with TabPane(f"{n} {title}", id=f"tab-{n}"):
                        yield pane
        else:
            with Horizontal(id="top-row"):
                yield from panes[:2]
            with Horizontal(id="bottom-row"):
                yield from panes[2:]
        yield KeysFooter()

    def on_mount(self) -> None:
        self.show_snapshot(self._latest)
        follow(self, NODES, self.show_snapshot, now=False)
        self.query_one(NodesTable).focus()

    async def on_resize(self) -> None:
        size = self.app.size
        compact = size.width < COMPACT_WIDTH or size.height < COMPACT_HEIGHT
        if compact != self.compact and not self._recomposing:
            await self._relayout()

    async def _relayout(self) -> None:
        """Recompose the panes, keeping the table's sort, filter and selected node. Not
        under a transfer's panel: recomposing would take it down, and with it the only way
        to cancel; the panel's end does it (on_transfer_panel_finished)."""
        if self.memory.running is not None:
            self._relayout_due = True
            return
        self._relayout_due = False
        table = self.table
        kept = (table.sort_index, table.sort_reverse, table.filter_text, table.current_node)
        self._recomposing = True
        try:
            await self.recompose()
        finally:
            self._recomposing = False
        table = self.table
        table.sort_index, table.sort_reverse, table.filter_text = kept[:3]
        self.show_snapshot(self._latest)
        if kept[3] in table.visible_names:
            table.move_cursor(table.visible_names.index(kept[3]))
        table.focus()

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
            await self._relayout()

    def on_screen_resume(self) -> None:
        self.show_snapshot(self._latest)

    async def on_transfer_panel_finished(self) -> None:
        size = self.app.size
        compact = size.width < COMPACT_WIDTH or size.height < COMPACT_HEIGHT
        if self._relayout_due or compact != self.compact:
            await self._relayout()

    def action_cancel_transfer(self) -> None:
        if self.memory.running is None:
            raise SkipAction()  # the next binding of escape runs
        self.memory.running.action_cancel()

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
        """Enter: in the filter it keeps the filter; on the Boosts pane it tells all about
        the reservation; elsewhere it opens the selected node."""
        if isinstance(self.focused, FilterBar):
            self.focused.display = False
            self.table.focus()
            return
        boosts = self.query_one(BoostsPane)
        if self.focused is not None and boosts in self.focused.ancestors_with_self:
            boosts.show_detail()
            return
        if self.focused is self.query_one(OffloadPane):
            self.action_open_offload()
            return
        if self.focused is not None and self.query_one(MemoryPane) in self.focused.ancestors:
            self.memory.info()
            return
        node = self.selected_node()
        if node is not None:
            grid_app(self).open_detail(node)

    def action_open_offload(self) -> None:
        grid_app(self).open_offload()

    def action_focus_pane(self, number: int) -> None:
        """A digit: that pane gets the focus (its tab first, on a small terminal)."""
        if self.compact:
            from textual.widgets import TabbedContent  # loaded by compose when compact

            self.query_one(TabbedContent).active = f"tab-{number}"
        target: Widget = self.query_one(f"#{PANE_IDS[number - 1]}")
        if number == 1:
            target = self.table
        elif number == 3:
            self.call_after_refresh(self.query_one(BoostsPane).focus_table)
            return
        elif number == 4:
            target = self.query_one(MemoryPane).table
        self.call_after_refresh(target.focus)

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
        await self.query_one(NodesPane).mount(bar)
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

    # -- cluster lifecycle, logs, shell: the flow lives in the controller -------------------

    def action_start_cluster(self) -> None:
        self.cluster.request("start")

    def action_stop_cluster(self) -> None:
        self.cluster.request("stop")

    def action_stop_node(self) -> None:
        self.cluster.request("stop", node=True)

    def action_drain_node(self) -> None:
        self.cluster.drain_or_undrain()

    def action_install(self) -> None:
        self.cluster.request("install")

    def action_logs(self) -> None:
        self.cluster.open_logs()

    def action_shell(self) -> None:
        self.cluster.open_shell()

    # -- boosts and shared allocations: the flow lives in the controller ------------------

    def action_boost_form(self) -> None:
        self.boosts.open_boost_form()

    def action_quick_boost(self, rtype: str) -> None:
        self.boosts.quick_boost(rtype)

    def action_release_newest(self) -> None:
        self.boosts.release_newest()

    def action_release_reservation(self) -> None:
        self.boosts.release_selected(self.query_one(BoostsPane).current)

    def action_share_form(self) -> None:
        self.boosts.open_share_form()

    # The Memory pane's keys, one action each so the read-only console can tell a store or
    # delete (changes the cluster) from a retrieve; the flows live in the controller.
    def action_memory_store(self) -> None:
        self.memory.run("store")

    def action_memory_retrieve(self) -> None:
        self.memory.run("retrieve")

    def action_memory_delete(self) -> None:
        self.memory.run("delete")

    def on_cluster_intent(self, message: ClusterIntent) -> None:
        self.cluster.confirm(message.operation)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        grid_app(self).report_worker_failure(event)
