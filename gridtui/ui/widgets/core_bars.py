"""Per-core CPU bars for the node detail screen: one labelled bar per core."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

_EIGHTHS = " ▏▎▍▌▋▊▉"


class CoreBars(Widget):
    """Bars fill left to right in eighths of a cell; colour says low, warm or hot."""

    COMPONENT_CLASSES = {
        "core-bars--label",
        "core-bars--low",
        "core-bars--warn",
        "core-bars--hot",
        "core-bars--track",
    }

    cores: reactive[tuple[float, ...]] = reactive((), layout=True)
    """Per-core utilisation in percent, as the agent reported it."""

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

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(1, len(self.cores))

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style

        def style(name: str) -> Style:
            return base + self.get_component_rich_style(f"core-bars--{name}", partial=True)

        if y >= len(self.cores):
            if y == 0:
                return Strip([Segment("no per-core figures", style("label"))], width)
            return Strip.blank(width, base)
        value = max(0.0, min(100.0, self.cores[y]))
        label = f"{y:>3} "
        figure = f" {value:5.1f}%"
        bar_width = max(1, width - len(label) - len(figure))
        eighths = round(value / 100.0 * bar_width * 8)
        full, part = divmod(eighths, 8)
        kind = "hot" if value >= self.hot else "warn" if value >= self.warn else "low"
        bar = "█" * full + (_EIGHTHS[part] if part and full < bar_width else "")
        segments = [
            Segment(label, style("label")),
            Segment(bar, style(kind)),
            Segment("·" * (bar_width - len(bar)), style("track")),
            Segment(figure, style("label")),
        ]
        return Strip(segments, width).crop_extend(0, width, base)
