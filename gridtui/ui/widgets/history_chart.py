"""A plotext history chart of one metric, x in seconds before the newest sample.

Optionally a threshold line and marks (offload tuning: where a threshold would have acted)."""

from __future__ import annotations

from collections.abc import Sequence

from textual.color import Color
from textual_plotext import PlotextPlot

from gridtui.ui.widgets.spark import fit

TICKS_WIDTH = 6
"""Columns the y-axis labels and the axis take at most ("0.96┤", "100┤")."""
FRAME_ROWS = 5
"""Rows of a chart that are not plot: title, top border, x axis, its ticks, its label."""
LEGEND_ROWS = 14
"""Rows the plot needs before a legend (two series) is drawn on it."""
Mark = tuple[float, float, str]
"""(x in seconds before the newest sample, value, "fence" or "lift")."""


class HistoryChart(PlotextPlot):
    """Line colour is read from the theme's variables at draw time, so theme switches apply."""

    def __init__(
        self,
        title: str,
        *,
        percent: bool = True,
        colour_variable: str = "primary",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.title = title
        self.percent = percent
        self.colour_variable = colour_variable
        self.interval = 1.0
        self._series: tuple[tuple[str, Sequence[float]], ...] = ()
        self.note = ""
        self.threshold: float | None = None
        self.marks: tuple[Mark, ...] = ()

    def on_mount(self) -> None:
        super().on_mount()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.replot())

    def on_resize(self) -> None:
        self.replot()  # the averaging above depends on the width

    def show(
        self,
        series: Sequence[tuple[str, Sequence[float]]],
        interval: float,
        note: str = "",
        *,
        threshold: float | None = None,
        marks: Sequence[Mark] = (),
    ) -> None:
        self._series = tuple(series)
        self.interval = interval
        self.note = note
        self.threshold = threshold
        self.marks = tuple(marks)
        self.replot()

    def replot(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        title = self.title + (f"  ({self.note})" if self.note else "")
        width = self.size.width
        # plotext drops a title wider than its canvas: the width less the y-axis labels.
        room = width - TICKS_WIDTH
        if width and len(title) > room:
            title = title[: max(1, room - 1)] + "…"
        plt.title(title)
        variables = self.app.theme_variables
        colours = [self.colour_variable, "accent", "success", "warning"]
        for index, (label, values) in enumerate(self._series):
            if not values:
                continue
            n = len(values)
            span = (n - 1) * self.interval
            # plotext's cost grows with the points, not the cells: a long history is
            # averaged down to what the braille dots can show (two per cell).
            if self.size.width:  # unknown before the first layout: plot everything then
                values = fit(values, 2 * self.size.width)
            m = len(values)
            xs = [round(-span + i * span / max(1, m - 1), 3) for i in range(m)]
            rgb = Color.parse(variables.get(colours[index % len(colours)], "white")).rgb
            plt.plot(
                xs,
                list(values),
                marker="braille",
                color=rgb,
                # Below LEGEND_ROWS the legend box would hide most of the lines.
                label=label if len(self._series) > 1 and self.size.height >= LEGEND_ROWS else None,
            )
        if self.threshold is not None:
            plt.hline(self.threshold, Color.parse(variables.get("warning", "yellow")).rgb)
        for kind, marker, variable in (("fence", "▲", "error"), ("lift", "▼", "success")):
            at = [(x, y) for x, y, k in self.marks if k == kind]
            if at:
                rgb = Color.parse(variables.get(variable, "white")).rgb
                xs_, ys_ = [x for x, _ in at], [y for _, y in at]
                plt.scatter(xs_, ys_, marker=marker, color=rgb, label=f"would {kind}")
        if self.percent:
            plt.ylim(0, 100)
            # No more ticks than rows: plotext picks which of two colliding ticks shows
            # in an order that changes from run to run.
            rows = self.size.height - FRAME_ROWS
            plt.yticks(
                [0, 25, 50, 75, 100] if rows >= 9 else [0, 50, 100] if rows >= 3 else [0, 100]
            )
        plt.xlabel("seconds ago")
        self.refresh()
