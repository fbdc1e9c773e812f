"""One node in depth: plotext history charts over the hub's whole ring, per-core bars, facts."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical, VerticalScroll
from textual.widgets import Footer, Label, Static

from gridtui.feeds import NODES, RAY
from gridtui.model.nodes import ClusterSnapshot, NodeStatus, RayNodeInfo
from gridtui.ui.bridge import follow, latest
from gridtui.ui.format import DASH, ago, num, pct, rate, size
from gridtui.ui.textual_private import QuietBeneath
from gridtui.ui.widgets.core_bars import CoreBars
from gridtui.ui.widgets.header import ClusterHeader
from gridtui.ui.widgets.history_chart import HistoryChart

HistoryFn = Callable[[str, str], tuple[float, ...]]


class _Facts:
    """A two-column grid whose every cell is plain text: hosts, reasons and GPU names come
    from files and nodes, and a Rich table would read their brackets as markup."""

    def __init__(self) -> None:
        self.table = Table.grid(padding=(0, 1))
        self.table.add_column(style="bold", no_wrap=True)
        self.table.add_column(overflow="fold")

    def add_row(self, name: str, value: str) -> None:
        self.table.add_row(Text(name), Text(value))


def node_facts(node: NodeStatus, now: float, ray: RayNodeInfo | None = None) -> Table:
    table = _Facts()
    table.add_row("host", node.host)
    table.add_row("role", node.role)
    table.add_row("state", node.state.value + (f" ({node.reason})" if node.reason else ""))
    if node.last_seen is not None:
        table.add_row("last seen", ago(max(0.0, now - node.last_seen)))
    s = node.sample
    if s is not None:
        table.add_row("CPU", f"{pct(node.cpu_percent).strip()}% of {len(s.cpu_per_core)} cores")
        table.add_row("load", " ".join(num(x) for x in s.load))
        table.add_row("memory", f"{size(s.mem_used)} / {size(s.mem_total)}")
        table.add_row("swap", f"{size(s.swap_used)} / {size(s.swap_total)}")
        table.add_row("disk /", f"{size(s.disk_used)} / {size(s.disk_total)}")
        for g in s.gpus:
            temp = DASH if g.temperature_c is None else f"{g.temperature_c:.0f}°C"
            table.add_row(
                f"GPU {g.index}",
                f"{g.name}: {g.util_percent:.0f}%, {size(g.mem_used)}/{size(g.mem_total)}, {temp}",
            )
        if not s.gpus:
            table.add_row("GPU", f"{DASH} (none)")
    if ray is not None:
        r = ray
        state = "alive" if r.alive else "dead"
        table.add_row("Ray", "draining: takes no new work" if r.alive and r.draining else state)
        table.add_row("Ray CPU", f"{r.cpu_total - r.cpu_available:g}/{r.cpu_total:g}")
        table.add_row("Ray GPU", f"{r.gpu_total - r.gpu_available:g}/{r.gpu_total:g}")
    return table.table


class NodeDetailScreen(QuietBeneath[None]):
    """Charts read the hub's full ring on each snapshot; the snapshot carries only the tail."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", tooltip="Back to the Nodes table"),
    ]

    def __init__(
        self, node: str, snapshot: ClusterSnapshot, history: HistoryFn, interval: float
    ) -> None:
        super().__init__()
        self.node_name = node
        self._initial = snapshot
        self._shown: NodeStatus | None = None
        self._history = history
        self._interval = interval

    def compose(self) -> ComposeResult:
        yield ClusterHeader(id="header")
        with Grid(id="charts"):
            yield HistoryChart("CPU %", id="chart-cpu")
            yield HistoryChart("Memory %", id="chart-mem", colour_variable="accent")
            yield HistoryChart("GPU % (util, memory)", id="chart-gpu", colour_variable="success")
            yield HistoryChart(
                "Network", id="chart-net", percent=False, colour_variable="secondary"
            )
        with Vertical(id="detail-side"):
            yield Label("Node", classes="side-title")
            yield Static(id="facts")
            yield Label("Cores", classes="side-title")
            with VerticalScroll(id="cores-scroll"):
                yield CoreBars(id="cores")
        yield Footer()

    def on_mount(self) -> None:
        self.show_snapshot(self._initial)
        follow(self, NODES, self.show_snapshot, now=False)

    def show_snapshot(self, snapshot: ClusterSnapshot) -> None:
        header = self.query_one(ClusterHeader)
        header.snapshot = snapshot
        header.subtitle = self.node_name
        node = snapshot.node(self.node_name)
        # The hub keeps a node's status object until that node changes: other nodes'
        # updates cost this screen nothing, and four plotext charts are not cheap.
        if node is None or node is self._shown:
            return
        self._shown = node
        self.query_one("#facts", Static).update(
            node_facts(node, snapshot.time, latest(self, RAY).node(self.node_name))
        )
        self.query_one(CoreBars).cores = node.sample.cpu_per_core if node.sample else ()
        hist, interval = self._history, self._interval
        name = self.node_name
        self.query_one("#chart-cpu", HistoryChart).show([("cpu", hist(name, "cpu"))], interval)
        self.query_one("#chart-mem", HistoryChart).show([("mem", hist(name, "mem"))], interval)
        gpu = self.query_one("#chart-gpu", HistoryChart)
        if node.sample is not None and node.sample.gpus:
            gpu.show([("util", hist(name, "gpu")), ("memory", hist(name, "gpu_mem"))], interval)
        else:
            gpu.show([], interval, note="no GPU")
        rx = [v / 1024**2 for v in hist(name, "net_rx_rate")]
        tx = [v / 1024**2 for v in hist(name, "net_tx_rate")]
        last = rate(rx[-1] * 1024**2) if rx else DASH
        self.query_one("#chart-net", HistoryChart).show(
            [("rx MiB/s", rx), ("tx MiB/s", tx)], interval, note=f"rx {last}"
        )
