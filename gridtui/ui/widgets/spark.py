"""A sparkline on a fixed 0-100 scale: 5% looks small, unlike Textual's min-max Sparkline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.segment import Segment
from rich.style import Style
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

BARS = " ▁▂▃▄▅▆▇█"


def fit(data: Sequence[float], width: int) -> Sequence[float]:
    """Average buckets so the whole history fits the width (the peaks of 1 s spikes soften)."""
    if width <= 0:
        return ()
    if len(data) <= width:
        return data
    step = len(data) / width
    out = []
    for i in range(width):
        part = data[int(i * step) : max(int(i * step) + 1, int((i + 1) * step))]
        out.append(sum(part) / len(part))
    return out


def spark_segments(
    values: Sequence[float],
    width: int,
    row_from_bottom: int,
    height: int,
    base: Style,
    styles: Mapping[str, Style],
    warn: float,
    hot: float,
) -> list[Segment]:
    """One line of bars, right-aligned in width; styles holds "low", "warn" and "hot"."""
    steps = len(BARS) - 1
    segments = [Segment(" " * (width - len(values)), base)] if len(values) < width else []
    for value in values:
        v = max(0.0, min(100.0, value))
        level = round(v / 100.0 * steps * height)
        part = max(0, min(steps, level - row_from_bottom * steps))
        if row_from_bottom == 0 and part == 0:
            part = 1 if v > 0 else 0
        kind = "hot" if v >= hot else "warn" if v >= warn else "low"
        segments.append(Segment(BARS[part], styles[kind]))
    return segments


class PercentSpark(Widget):
    """The newest value is at the right edge; older values scroll off the left."""

    COMPONENT_CLASSES = {"percent-spark--low", "percent-spark--warn", "percent-spark--hot"}

    data: reactive[tuple[float, ...]] = reactive((), always_update=True)
    """Percentages, oldest first."""

    def __init__(
        self,
        data: Sequence[float] = (),
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
        self.set_reactive(PercentSpark.data, tuple(data))
        self._palette: tuple[Style, dict[str, Style]] | None = None
        self._fitted: tuple[tuple[float, ...], int, Sequence[float]] | None = None

    def notify_style_update(self) -> None:
        self._palette = None
        super().notify_style_update()

    def render_line(self, y: int) -> Strip:
        width, height = self.size.width, self.size.height
        if self._palette is None:
            base = self.rich_style
            self._palette = (
                base,
                {
                    k: base + self.get_component_rich_style(f"percent-spark--{k}", partial=True)
                    for k in ("low", "warn", "hot")
                },
            )
        base, styles = self._palette
        fitted = self._fitted
        if fitted is None or fitted[0] is not self.data or fitted[1] != width:
            fitted = self._fitted = (self.data, width, fit(self.data, width))
        values = fitted[2]
        segments = spark_segments(
            values, width, height - 1 - y, height, base, styles, self.warn, self.hot
        )
        return Strip(segments, width).simplify()
