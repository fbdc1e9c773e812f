"""The history pane: CPU/memory/GPU sparklines for the selected node, one row per node below."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Label

from gridtui.model import ClusterSnapshot, NodeState, NodeStatus
from gridtui.ui.format import DASH, pct
from gridtui.ui.widgets.spark import PercentSpark

_METRICS = (("cpu", "CPU"), ("mem", "MEM"), ("gpu", "GPU"))


def _now(node: NodeStatus, metric: str) -> float | None:
    return {"cpu": node.cpu_percent, "mem": node.mem_percent, "gpu": node.gpu_percent}[metric]


class NodeRow(Horizontal):
    """One compact row of the small multiples: name, CPU and memory history with figures."""

    def __init__(self, node_name: str) -> None:
        super().__init__(classes="node-row")
        self.node_name = node_name

    def compose(self) -> ComposeResult:
        yield Label(self.node_name, classes="row-name")
        yield PercentSpark(classes="row-spark row-cpu")
        yield Label("", classes="row-figure row-cpu-figure")
        yield PercentSpark(classes="row-spark row-mem")
        yield Label("", classes="row-figure row-mem-figure")

    def show(self, node: NodeStatus, selected: bool) -> None:
        self.set_class(selected, "-selected")
        self.set_class(node.state is not NodeState.UP, "-not-up")
        self.query_one(".row-cpu", PercentSpark).data = node.history.get("cpu", ())
        self.query_one(".row-mem", PercentSpark).data = node.history.get("mem", ())
        self.query_one(".row-cpu-figure", Label).update(pct(node.cpu_percent))
        self.query_one(".row-mem-figure", Label).update(pct(node.mem_percent))


class SparklinesPane(Widget):
    """Renders from the snapshot's bounded history; never asks the hub for more."""

    selected: reactive[str | None] = reactive(None)
    """The node shown large on the left; the screen follows the Nodes table's cursor."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.snapshot: ClusterSnapshot | None = None
        self._row_names: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        with Vertical(id="spark-selected"):
            yield Label("", id="spark-title")
            for key, label in _METRICS:
                with Horizontal(classes="metric-head"):
                    yield Label(label, classes="metric-label")
                    yield Label("", id=f"spark-{key}-figure", classes="metric-figure")
                yield PercentSpark(id=f"spark-{key}", classes="metric-spark")
        with Vertical(id="spark-all"):
            yield Label("All nodes   CPU · MEM", id="spark-all-title")
            yield VerticalScroll(id="spark-rows")

    def show_snapshot(self, snapshot: ClusterSnapshot) -> None:
        self.snapshot = snapshot
        self._refresh_all()

    def watch_selected(self) -> None:
        self._refresh_all()

    def _refresh_all(self) -> None:
        snap = self.snapshot
        if snap is None or not self.is_mounted:
            return
        names = tuple(n.name for n in snap.nodes)
        rows = self.query_one("#spark-rows", VerticalScroll)
        if names != self._row_names:
            self._row_names = names
            rows.remove_children()
            rows.mount_all([NodeRow(name) for name in names])
            self.call_after_refresh(self._refresh_all)
            return
        for row in rows.query(NodeRow):
            node = snap.node(row.node_name)
            if node is not None:
                row.show(node, node.name == self.selected)
        self._show_selected(
            snap.node(self.selected or "") or (snap.nodes[0] if snap.nodes else None)
        )

    def _show_selected(self, node: NodeStatus | None) -> None:
        title = self.query_one("#spark-title", Label)
        if node is None:
            title.update("")
            return
        title.update(f"{node.name} · {node.role} · {node.state.value}")
        for key, _label in _METRICS:
            spark = self.query_one(f"#spark-{key}", PercentSpark)
            figure = self.query_one(f"#spark-{key}-figure", Label)
            has_gpu = node.sample is not None and bool(node.sample.gpus)
            if key == "gpu" and not has_gpu:
                spark.data = ()
                figure.update(f"{DASH} no GPU")
                continue
            spark.data = node.history.get(key, ())
            figure.update(pct(_now(node, key)))
