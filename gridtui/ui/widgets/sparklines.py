"""The history pane: CPU/memory/GPU sparklines for the selected node, one row per node below."""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Label

from gridtui.model.nodes import ClusterSnapshot, NodeState, NodeStatus
from gridtui.ui.format import DASH, pct
from gridtui.ui.widgets.shown import WhenShown
from gridtui.ui.widgets.spark import PercentSpark, fit, spark_segments

_METRICS = (("cpu", "CPU"), ("mem", "MEM"), ("gpu", "GPU"))
NAME_WIDTH = 9
"""The name column's least width; it widens for longer names, up to half the row."""
FIGURE_WIDTH = 7
"""A figure is right-aligned in 6 cells, then one blank cell."""


def _now(node: NodeStatus, metric: str) -> float | None:
    return {"cpu": node.cpu_percent, "mem": node.mem_percent, "gpu": node.gpu_percent}[metric]


class NodeSparks(ScrollView):
    """The small multiples as one widget: a row per node (name, CPU and memory history with
    figures), drawn line by line for the visible rows only, so updates never need a layout."""

    COMPONENT_CLASSES = {
        "node-sparks--selected",
        "node-sparks--not-up",
        "node-sparks--low",
        "node-sparks--warn",
        "node-sparks--hot",
    }

    def __init__(
        self,
        *,
        warn: float = 75.0,
        hot: float = 90.0,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.warn = warn
        self.hot = hot
        self.nodes: tuple[NodeStatus, ...] = ()
        self.selected: str | None = None
        self._strips: dict[int, tuple[NodeStatus, bool, int, Strip]] = {}
        """Row index -> the node, selection and width it was drawn for, and the line."""
        self._palettes: dict[bool, tuple[Style, Style, dict[str, Style]]] = {}
        self._longest = 0

    def show(self, nodes: tuple[NodeStatus, ...], selected: str | None) -> None:
        """Repaint only the visible rows whose node or selection changed."""
        old, old_selected = self.nodes, self.selected
        self.nodes, self.selected = nodes, selected
        if len(nodes) != len(old) or any(a.name != b.name for a, b in zip(nodes, old, strict=True)):
            self._longest = max((cell_len(n.name) for n in nodes), default=0)
            self._strips.clear()
            self.virtual_size = Size(0, len(nodes))
            self.refresh()
            return
        top = round(self.scroll_offset.y)
        for i in range(top, min(len(nodes), top + self.scrollable_content_region.height)):
            node = nodes[i]
            was = old_selected == node.name
            if node is not old[i] or was != (selected == node.name):
                self.refresh_line(i)

    def notify_style_update(self) -> None:
        self._strips.clear()
        self._palettes.clear()
        super().notify_style_update()

    def render_line(self, y: int) -> Strip:
        index = y + round(self.scroll_offset.y)
        width = self.scrollable_content_region.width
        if not 0 <= index < len(self.nodes):
            return Strip.blank(width, self.rich_style)
        node = self.nodes[index]
        selected = node.name == self.selected
        cached = self._strips.get(index)
        if cached is not None and cached[0] is node and cached[1:3] == (selected, width):
            return cached[3]
        strip = self._render_row(node, selected, width)
        self._strips[index] = (node, selected, width, strip)
        return strip

    def _palette(self, up: bool) -> tuple[Style, Style, dict[str, Style]]:
        """Base, name-when-selected and bar styles for a row, resolved once per style update."""
        cached = self._palettes.get(up)
        if cached is None:

            def style(name: str) -> Style:
                return self.get_component_rich_style(f"node-sparks--{name}", partial=True)

            base = self.rich_style if up else self.rich_style + style("not-up")
            bars = {kind: base + style(kind) for kind in ("low", "warn", "hot")}
            cached = self._palettes[up] = (base, base + style("selected"), bars)
        return cached

    def _name_width(self, width: int) -> int:
        """Room for the longest name and a blank, within half the row (the pane is narrow)."""
        return max(NAME_WIDTH, min(self._longest + 1, width // 2))

    def _render_row(self, node: NodeStatus, selected: bool, width: int) -> Strip:
        base, selected_style, bars = self._palette(node.state is NodeState.UP)
        name_width = self._name_width(width)
        spark_space = max(0, width - name_width - 2 * FIGURE_WIDTH)
        name = node.name
        if cell_len(name) >= name_width:  # cut, and say so
            name = set_cell_size(name, name_width - 2) + "…"
        name = set_cell_size(name, name_width)
        segments = [Segment(name, selected_style if selected else base)]
        for metric, spark_width in (
            ("cpu", spark_space // 2),
            ("mem", spark_space - spark_space // 2),
        ):
            values = fit(node.history.get(metric, ()), spark_width)
            segments += spark_segments(values, spark_width, 0, 1, base, bars, self.warn, self.hot)
            figure = pct(_now(node, metric))[: FIGURE_WIDTH - 1]
            segments.append(Segment(figure.rjust(FIGURE_WIDTH - 1) + " ", base))
        return Strip(segments).crop_extend(0, width, base).simplify()


class SparklinesPane(Widget):
    """Renders from the snapshot's bounded history; never asks the hub for more."""

    selected: reactive[str | None] = reactive(None)
    """The node shown large on the left; the screen follows the Nodes table's cursor."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.snapshot: ClusterSnapshot | None = None
        self._shown: NodeStatus | None = None
        """The node the large sparklines were last drawn from (the hub replaces it on change)."""
        self._update = WhenShown(self, self._refresh_all)
        self._built = False

    def on_mount(self) -> None:
        self._update.attach()
        # Its 15 widgets cost ~40 ms before the first frame, which has no data for them
        # yet: the pane's frame is drawn at once, its content one frame later.
        self.call_after_refresh(self._build)

    async def _build(self) -> None:
        if not self.is_attached:  # the app closed before its first frame
            return
        await self.mount_compose(self._parts())
        self._built = bool(self.query(NodeSparks))  # not if the app closed meanwhile
        if self._built:
            self._update()

    def _parts(self) -> ComposeResult:
        with Vertical(id="spark-selected"):
            yield Label("", id="spark-title")
            for key, label in _METRICS:
                with Horizontal(classes="metric-head"):
                    yield Label(label, classes="metric-label")
                    yield Label("", id=f"spark-{key}-figure", classes="metric-figure")
                yield PercentSpark(id=f"spark-{key}", classes="metric-spark")
        with Vertical(id="spark-all"):
            yield Label("All nodes   CPU · MEM", id="spark-all-title")
            yield NodeSparks(id="spark-rows")

    def show_snapshot(self, snapshot: ClusterSnapshot) -> None:
        self.snapshot = snapshot
        self._update()

    def watch_selected(self) -> None:
        self._update()

    def _refresh_all(self) -> bool:
        """Draw the newest snapshot; whether there was one to draw (WhenShown)."""
        snap = self.snapshot
        if snap is None or not self._built:
            return False
        self.query_one(NodeSparks).show(snap.nodes, self.selected)
        self._show_selected(
            snap.node(self.selected or "") or (snap.nodes[0] if snap.nodes else None)
        )
        return True

    def _show_selected(self, node: NodeStatus | None) -> None:
        if node is self._shown:
            return
        self._shown = node
        title = self.query_one("#spark-title", Label)
        if node is None:
            _set_label(title, "")
            return
        _set_label(title, f"{node.name} · {node.role} · {node.state.value}")
        for key, _label in _METRICS:
            spark = self.query_one(f"#spark-{key}", PercentSpark)
            figure = self.query_one(f"#spark-{key}-figure", Label)
            has_gpu = node.sample is not None and bool(node.sample.gpus)
            if key == "gpu" and not has_gpu:
                if spark.data:
                    spark.data = ()
                _set_label(figure, f"{DASH} no GPU", layout=False)
                continue
            data = node.history.get(key, ())
            if data is not spark.data:
                spark.data = data
            _set_label(figure, pct(_now(node, key)), layout=False)


def _set_label(label: Label, text: str, *, layout: bool = True) -> None:
    """Label.update always refreshes (and by default lays out the screen): only on change."""
    if label.content != text:
        label.update(text, layout=layout)
