"""Gauges of watched nodes' live figures, each with its offload threshold marked on the bar."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from gridtui.ui.format import DASH

LABEL = 18
FIGURES = 14
TAGS = 20
"""Room kept for `fenced, would fence`."""
MARKER = "┃"


@dataclass(frozen=True)
class GaugeRow:
    node: str
    resource: str
    value: float | None
    threshold: float | None
    """The value the bar marks: the tuned candidate while tuning."""
    selected: bool = False
    fires: bool = False
    """At this threshold the policy would fence the node now (its recent history says so)."""
    fenced: bool = False
    changed: bool = False
    """The marked threshold is a candidate, not yet applied."""


class ThresholdGauges(Widget):
    """One line per (node, resource); rows are replaced whole on each change."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "threshold-gauges--fill",
        "threshold-gauges--over",
        "threshold-gauges--track",
        "threshold-gauges--marker",
        "threshold-gauges--selected",
        "threshold-gauges--fires",
        "threshold-gauges--muted",
    }
    DEFAULT_CSS = """
    ThresholdGauges { height: auto; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.rows: tuple[GaugeRow, ...] = ()

    def show(self, rows: Sequence[GaugeRow]) -> None:
        rows = tuple(rows)
        if rows != self.rows:
            self.rows = rows
            self.refresh(layout=True)

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return max(1, len(self.rows))

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"threshold-gauges--{name}", partial=True)

    def render(self) -> Text:
        if not self.rows:
            return Text("no watched node with figures yet", style=self._style("muted"))
        width = max(10, self.size.width - LABEL - FIGURES - TAGS - 1)
        lines = [self._line(row, width) for row in self.rows]
        return Text("\n", no_wrap=True, overflow="ellipsis").join(lines)

    def _line(self, row: GaugeRow, width: int) -> Text:
        pointer = "▶ " if row.selected else "  "
        label = f"{pointer}{row.node} {row.resource}"[:LABEL].ljust(LABEL)
        line = Text(label, style=self._style("selected") if row.selected else Style())
        value = row.value
        over = value is not None and row.threshold is not None and value >= row.threshold
        filled = 0 if value is None else round(min(100.0, max(0.0, value)) / 100 * width)
        mark = None if row.threshold is None else min(width - 1, int(row.threshold / 100 * width))
        bar = Text()
        for i in range(width):
            if i == mark:
                bar.append(MARKER, style=self._style("marker"))
            elif i < filled:
                bar.append("█", style=self._style("over" if over else "fill"))
            else:
                bar.append("░", style=self._style("track"))
        line.append(" ")
        line.append_text(bar)
        shown = DASH if value is None else f"{value:3.0f}%"
        limit = DASH if row.threshold is None else f"{row.threshold:g}%"
        star = "*" if row.changed else ""
        line.append(f" {shown:>4} / {limit}{star}".ljust(FIGURES))
        tags = []
        if row.fenced:
            tags.append("fenced")
        if row.fires:
            tags.append("would fence")
        if tags:
            line.append(" " + ", ".join(tags), style=self._style("fires"))
        return line
