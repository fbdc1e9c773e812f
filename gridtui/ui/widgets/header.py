"""The one-line header: cluster name, nodes up/total, Ray status and the snapshot's clock."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from gridtui.model.nodes import ClusterSnapshot
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
    """The snapshot drawn; set by the screen on every update."""
    subtitle: reactive[str] = reactive("")
    """What the screen shows: the node on a detail screen, empty on the main screen."""

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
        if snap.ray_connected is not None:
            text.append("  Ray ", style=style("cluster-header--dim"))
            if snap.ray_connected:
                text.append("connected", style=style("cluster-header--ok"))
            elif snap.ray_pending:
                text.append(snap.ray_message, style=style("cluster-header--pending"))
            else:
                text.append("down", style=style("cluster-header--bad"))
                if snap.ray_message:
                    text.append(f": {snap.ray_message}", style=style("cluster-header--bad"))
        if self.subtitle:
            text.append("  >  ", style=style("cluster-header--dim"))
            text.append(self.subtitle)
        right = clock(snap.time)
        pad = self.size.width - text.cell_len - len(right) - 1
        if pad > 0:
            text.append(" " * pad)
        text.append(right + " ", style=style("cluster-header--dim"))
        return text
