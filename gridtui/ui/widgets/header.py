"""The one-line header: cluster name, nodes up/total, Ray's state and the snapshot's clock."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from gridtui.model.nodes import ClusterSnapshot
from gridtui.model.ray import RayClusterView
from gridtui.ui.feeds import feeds
from gridtui.ui.format import clock


class ClusterHeader(Widget):
    """Time comes from the snapshot, not the wall clock, so a frozen trace renders the same."""

    COMPONENT_CLASSES = {
        "cluster-header--name",
        "cluster-header--demo",
        "cluster-header--ok",
        "cluster-header--bad",
        "cluster-header--dim",
        "cluster-header--pending",
    }

    snapshot: reactive[ClusterSnapshot | None] = reactive(None, always_update=True)
    """The node snapshot drawn; set by the screen on every update."""
    ray: reactive[RayClusterView] = reactive(RayClusterView)
    """Ray's view, followed from the app's Ray signal."""
    subtitle: reactive[str] = reactive("")
    """What the screen shows: the node on a detail screen, empty on the main screen."""

    def on_mount(self) -> None:
        source = feeds(self.app)
        self.ray = source.ray_view
        source.ray_signal.subscribe(self, self._ray_changed)

    def _ray_changed(self, view: RayClusterView) -> None:
        self.ray = view

    def render(self) -> Text:
        snap = self.snapshot
        style = self.get_component_rich_style
        text = Text(no_wrap=True, overflow="ellipsis")
        if snap is None:
            return Text("gridtui", style=style("cluster-header--name"))
        text.append(" gridtui ", style=style("cluster-header--name"))
        text.append(f" {snap.name} ")
        if snap.demo:
            text.append(" DEMO ", style=style("cluster-header--demo"))
            text.append(" · gridtui -c FILE for your cluster  ", style=style("cluster-header--dim"))
        total = len(snap.nodes)
        up = snap.up_count
        text.append(
            f"{up}/{total} up",
            style=style("cluster-header--ok" if up == total else "cluster-header--bad"),
        )
        ray = self.ray
        if ray.connected is not None:
            text.append("  Ray ", style=style("cluster-header--dim"))
            if ray.connected:
                text.append("connected", style=style("cluster-header--ok"))
            elif ray.pending:
                text.append(ray.message, style=style("cluster-header--pending"))
            else:
                text.append("down", style=style("cluster-header--bad"))
                if ray.message:
                    text.append(f": {ray.message}", style=style("cluster-header--bad"))
        if self.subtitle:
            text.append("  >  ", style=style("cluster-header--dim"))
            text.append(self.subtitle)
        right = clock(snap.time)
        pad = self.size.width - text.cell_len - len(right) - 1
        if pad > 0:
            text.append(" " * pad)
        text.append(right + " ", style=style("cluster-header--dim"))
        return text
