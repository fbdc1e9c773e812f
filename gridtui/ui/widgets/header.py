"""The header: cluster, nodes up, Ray's and auto-offload's state, the clock; Ray's message wraps."""

from __future__ import annotations

import textwrap

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from gridtui.feeds import OFFLOAD, RAY
from gridtui.model.nodes import ClusterSnapshot
from gridtui.model.offload_view import OffloadSnapshot
from gridtui.model.ray import RayClusterView
from gridtui.ui.bridge import follow, latest
from gridtui.ui.format import clock
from gridtui.ui.widgets.shown import WhenShown

MESSAGE_LINES = 2
"""Ray's message gets at most this many lines of its own below the first."""

FULL, SHORT, NONE = "auto-offload", "offload", ""
"""The offload segment's label, from the widest form to none (when space is short)."""


def offload_parts(snap: OffloadSnapshot, ray_down: bool, label: str) -> list[tuple[str, str]]:
    """[(text, component class suffix)]: `auto-offload on · 1 fenced`, `auto-offload ?` once
    the engine's state is stale (Ray down, or the last read failed), nothing before the
    engine ever answered (the Ray segment already says why)."""
    policy = snap.policy
    if not label or policy is None:
        return []
    parts = [(f"{label} ", "dim")]
    if ray_down or not snap.connected:
        return [*parts, ("?", "dim")]
    if not policy.enabled:
        parts.append(("off", "dim"))
    elif policy.dry_run:
        parts.append(("dry-run", "pending"))
    else:
        parts.append(("on", "ok"))
    if snap.fenced:
        parts.append((f" · {len(snap.fenced)} fenced", "pending"))
    return parts


class ClusterHeader(Widget):
    """Time comes from the snapshot, not the wall clock, so a frozen trace renders the same."""

    COMPONENT_CLASSES = {
        "cluster-header--name",
        "cluster-header--demo",
        "cluster-header--ok",
        "cluster-header--bad",
        "cluster-header--dim",
        "cluster-header--pending",
        "cluster-header--read-only",
        "cluster-header--auth-off",
    }

    # Drawn only while the header's screen is on top: set, they wait for it (WhenShown).
    snapshot: reactive[ClusterSnapshot | None] = reactive(None, always_update=True, repaint=False)
    """The node snapshot drawn; set by the screen on every update."""
    ray: reactive[RayClusterView] = reactive(RayClusterView, repaint=False)
    """Ray's view, followed from the app's Ray signal."""
    subtitle: reactive[str] = reactive("", repaint=False)
    """What the screen shows: the node on a detail screen, empty on the main screen."""
    read_only: reactive[bool] = reactive(False, repaint=False)
    """The console refuses keys that change the cluster; followed from the app."""
    offload: reactive[OffloadSnapshot | None] = reactive(None, repaint=False)
    """Auto-offload's engine as last read, followed from the app's offload signal."""

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._update = WhenShown(self, self._repaint)
        self._height = 1

    def _repaint(self) -> bool:
        self._fit_height()
        self.refresh()
        return self.snapshot is not None and self.is_mounted

    def watch_snapshot(self) -> None:
        self._update()

    def watch_ray(self) -> None:
        self._update()

    def watch_subtitle(self) -> None:
        self._update()

    def watch_read_only(self) -> None:
        self._update()

    def watch_offload(self) -> None:
        self._update()

    def on_mount(self) -> None:
        self._update.attach()
        self.ray = latest(self, RAY)
        follow(self, RAY, self._ray_changed, now=False)
        self.offload = latest(self, OFFLOAD)
        follow(self, OFFLOAD, self._offload_changed, now=False)
        if hasattr(self.app, "read_only"):  # GridApp's; the file may turn it on later
            self.watch(self.app, "read_only", self._read_only_changed)

    def _read_only_changed(self, value: bool) -> None:
        self.read_only = value

    def _ray_changed(self, view: RayClusterView) -> None:
        self.ray = view

    def _offload_changed(self, snapshot: OffloadSnapshot) -> None:
        self.offload = snapshot

    def on_resize(self) -> None:
        self._fit_height()

    def _fit_height(self) -> None:
        """One line, or more when Ray's message does not fit beside the rest (it wraps
        below rather than pushing the clock off the edge)."""
        wanted = len(self._lines(self.size.width))
        if wanted != self._height:
            self._height = wanted
            self.styles.height = wanted

    def render(self) -> Text:
        lines = self._lines(self.size.width)
        return lines[0] if len(lines) == 1 else Text("\n", no_wrap=True).join(lines)

    def _lines(self, width: int) -> list[Text]:
        snap = self.snapshot
        style = self.get_component_rich_style
        if snap is None:
            return [Text("gridtui", style=style("cluster-header--name"))]
        right = clock(snap.time)
        ray = self.ray
        message = ray.message if ray.connected is False else ""
        # What gives way when space is short: the demo's hint first, then the offload
        # segment's "auto-" prefix, then Ray's message, which moves to lines of its own
        # below, then the offload segment. Read-only, auth off and Ray's state never do.
        for hint, inline, label in (
            (True, True, FULL),
            (False, True, FULL),
            (False, True, SHORT),
            (False, False, FULL),
            (False, False, SHORT),
            (False, False, NONE),
        ):
            text = self._first_line(snap, hint, message if inline else "", label)
            if width <= 0 or text.cell_len + len(right) + 1 <= width:
                break
        pad = width - text.cell_len - len(right) - 1
        if pad > 0:
            text.append(" " * pad)
        text.append(right + " ", style=style("cluster-header--dim"))
        if inline or not message:
            return [text]
        kind = "cluster-header--pending" if ray.pending else "cluster-header--bad"
        wrapped = textwrap.wrap(message, max(10, width - 2)) or [message]
        if len(wrapped) > MESSAGE_LINES:
            wrapped = [*wrapped[: MESSAGE_LINES - 1], " ".join(wrapped[MESSAGE_LINES - 1 :])]
        below = [
            Text(f" {line}", style=style(kind), no_wrap=True, overflow="ellipsis")
            for line in wrapped
        ]
        return [text, *below]

    def _first_line(self, snap: ClusterSnapshot, hint: bool, message: str, label: str) -> Text:
        """Everything but the clock; `message` empty means Ray's state alone, `label` the
        offload segment's (empty: none)."""
        style = self.get_component_rich_style
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" gridtui ", style=style("cluster-header--name"))
        text.append(f" {snap.name} ")
        if self.read_only:
            text.append(" read-only ", style=style("cluster-header--read-only"))
            text.append(" ")
        if snap.ray_auth != "token":  # the cluster file opted out: never hidden
            text.append(" Ray auth off ", style=style("cluster-header--auth-off"))
            text.append(" ")
        if snap.demo:
            text.append(" DEMO ", style=style("cluster-header--demo"))
            if hint:
                text.append(
                    " · gridtui -c FILE for your cluster  ", style=style("cluster-header--dim")
                )
            else:
                text.append("  ")
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
                text.append(message or "starting…", style=style("cluster-header--pending"))
            else:
                text.append("down", style=style("cluster-header--bad"))
                if message:
                    text.append(f": {message}", style=style("cluster-header--bad"))
        if self.offload is not None:
            parts = offload_parts(self.offload, ray.connected is False, label)
            if parts:
                text.append("  ")
            for part, kind in parts:
                text.append(part, style=style(f"cluster-header--{kind}"))
        if self.subtitle:
            text.append("  >  ", style=style("cluster-header--dim"))
            text.append(self.subtitle)
        return text
