"""The main screen: the dashboard of every pane at once, or tabs on a small terminal."""

from __future__ import annotations

from typing import Any, ClassVar, cast

from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widget import Widget
from textual.worker import Worker

from gridtui.feeds import NODES
from gridtui.model.nodes import ClusterSnapshot
from gridtui.ui.access import grid_app
from gridtui.ui.bridge import follow
from gridtui.ui.controllers.boosts import BoostsController
from gridtui.ui.controllers.cluster import ClusterController
from gridtui.ui.controllers.memory import MemoryController
from gridtui.ui.dashboard import PANES, DashboardPane, Thresholds
from gridtui.ui.intents import Controller, Intent
from gridtui.ui.textual_private import QuietBeneath
from gridtui.ui.widgets.filter_bar import FilterBar
from gridtui.ui.widgets.footer import KeysFooter
from gridtui.ui.widgets.header import ClusterHeader
from gridtui.ui.widgets.nodes_table import NodesTable
from gridtui.ui.widgets.sparklines import SparklinesPane

COMPACT_WIDTH, COMPACT_HEIGHT = 100, 30
"""Below either, the panes are tabs (same digit keys) instead of all at once."""


class MainScreen(QuietBeneath[None]):
    """Lays out the panes (ui/dashboard.py), routes their intents to the controllers, and
    points the other panes at the node under the table's cursor."""

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
        # Digits: one row in the help and the palette (app.action_help), not one per pane.
        *(Binding(str(n), f"focus_pane({n})", "", show=False) for n in range(1, len(PANES) + 1)),
    ]

    def __init__(
        self, snapshot: ClusterSnapshot, *, warn: float, hot: float, loading: bool = False
    ) -> None:
        super().__init__()
        self._latest = snapshot
        self._warn, self._hot = warn, hot
        self.controllers: dict[type[Intent], Controller] = {
            c.TAKES: c(self) for pane in PANES for c in pane.controllers
        }
        """Who takes each intent the panes post (route)."""
        self._loading = loading
        self._recomposing = False
        self._relayout_due = False
        self.compact = False
        """Tabs instead of the dashboard: the terminal is small."""
        self.panes: list[Widget] = []
        """The panes as composed, in digit order."""

    def controller(self, kind: type[Any]) -> Any:
        return next(c for c in self.controllers.values() if isinstance(c, kind))

    @property
    def cluster(self) -> ClusterController:
        return cast(ClusterController, self.controller(ClusterController))

    @property
    def boosts(self) -> BoostsController:
        return cast(BoostsController, self.controller(BoostsController))

    @property
    def memory(self) -> MemoryController:
        return cast(MemoryController, self.controller(MemoryController))

    def compose(self) -> ComposeResult:
        yield ClusterHeader(id="header")
        size = self.app.size
        self.compact = size.width < COMPACT_WIDTH or size.height < COMPACT_HEIGHT
        thresholds = Thresholds(self._warn, self._hot)
        self.panes = [entry.make(thresholds) for entry in PANES]
        panes = list(zip(PANES, self.panes, strict=True))
        if self.compact:
            # Imported only here: the dashboard, the common case, draws without them.
            from textual.widgets import TabbedContent, TabPane

            with TabbedContent(id="panes"):
                for n, (entry, pane) in enumerate(panes, 1):
                    with TabPane(f"{n} {entry.title}", id=f"tab-{n}"):
                        yield pane
        else:
            for row in ("top", "bottom"):
                with Horizontal(id=f"{row}-row"):
                    yield from (pane for entry, pane in panes if entry.row == row)
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

    # -- the panes' intents, each to its controller: the one place they meet ---------------

    @on(Intent)
    def route(self, intent: Intent) -> None:
        intent.stop()
        self.controllers[type(intent)].handle(intent)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        grid_app(self).report_worker_failure(event)

    # -- the screen's own keys ------------------------------------------------------------

    def action_open_detail(self) -> None:
        """Enter: in the filter it keeps the filter; on a pane, what that pane opens (a
        reservation, an object, the Offload view); elsewhere the selected node."""
        if isinstance(self.focused, FilterBar):
            self.focused.display = False
            self.table.focus()
            return
        focused = self.focused
        if focused is not None:
            for pane in self.panes:
                if pane in focused.ancestors_with_self:
                    if cast(DashboardPane, pane).open_selected():
                        return
                    break
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
        self.call_after_refresh(cast(DashboardPane, self.panes[number - 1]).take_focus)

    def action_cancel_transfer(self) -> None:
        if self.memory.running is None:
            raise SkipAction()  # the next binding of escape runs
        self.memory.running.action_cancel()
