"""How the Nodes table draws a row: cells cut and styled once, lines cached until they change."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.scroll_view import ScrollView
from textual.strip import Strip

from gridtui.ui.format import DASH
from gridtui.ui.widgets.node_columns import (
    COLUMNS,
    LONGEST_NAME,
    STATE_KIND,
    TABLE_WIDTH,
    Justify,
    NodeColumn,
    Row,
    cell_segments,
)


class NodeLines(ScrollView):
    """The drawing half of NodesTable (ui/widgets/nodes_table.py), which keeps these up to
    date; a line is drawn again only when its row's objects or its look changed."""

    rows: list[Row]
    cursor_row: int
    _hover_row: int | None
    _lines: dict[int, tuple[Row, tuple[Any, ...], Strip]]
    _styles: dict[str, Style]
    _metas: dict[tuple[int, int], Style]
    _name_width: int
    _table_width: int
    hot_percent: float
    warn_percent: float
    sort_index: int
    sort_reverse: bool
    _header: tuple[tuple[Any, ...], Strip] | None

    def _fit_names(self, names: list[str]) -> None:
        """Widen the Node column to the longest name (within LONGEST_NAME), so no name is cut."""
        longest = max((cell_len(n) for n in names), default=0)
        width = max(COLUMNS[0].width, min(LONGEST_NAME, longest))
        if width != self._name_width:
            self._name_width = width
            self._table_width = TABLE_WIDTH + width - COLUMNS[0].width
            self._header = None
            self._lines.clear()

    def _header_line(self, width: int) -> Strip:
        look = (self.sort_index, self.sort_reverse, self.has_focus, width)
        if self._header is not None and self._header[0] == look:
            return self._header[1]
        style = self._style("nodes-table--header")
        arrow = " ▼" if self.sort_reverse else " ▲"
        segments: list[Segment] = []
        for i, column in enumerate(COLUMNS):
            label = column.label + (arrow if i == self.sort_index else "")
            pre = style + self._meta(-1, i)
            segments += cell_segments(label, Style(), None, self._width(column), pre, Style())
        rest = Segment(" " * max(0, width - self._table_width), style + self._meta(-1, -1))
        self._header = (look, Strip([*segments, rest]))
        return self._header[1]

    def _width(self, column: NodeColumn) -> int:
        return self._name_width if column is COLUMNS[0] else column.width

    def _style(self, name: str, partial: bool = False) -> Style:
        key = f"{name}:{partial}"
        style = self._styles.get(key)
        if style is None:
            style = self._styles[key] = self.get_component_rich_style(name, partial=partial)
        return style

    def _meta(self, row: int, column: int) -> Style:
        """Where a cell is (the mouse reads it back); it also keeps each cell's segments
        apart, as Rich draws table cells."""
        meta = self._metas.get((row, column))
        if meta is None:
            extra = {"out_of_bounds": True} if column < 0 else {}
            meta = Style.from_meta({"row": row, "column": max(column, 0), **extra})
            if len(self._metas) > 5000:
                self._metas.clear()
            self._metas[(row, column)] = meta
        return meta

    def _cell(self, row: Row, column: NodeColumn) -> tuple[str, str, Justify]:
        """A cell's text, its look (a component class suffix) and its justification."""
        value = column.cell(row)
        if column.key == "state":
            return value, STATE_KIND.get(row.node.state, "down"), column.justify
        if column.percent:
            figure = column.sort(row)
            if figure is None:
                return value, "dim", "right"
            hot, warn = figure >= self.hot_percent, figure >= self.warn_percent
            return value, "hot" if hot else "warn" if warn else "", "right"
        if value == DASH:
            return value, "dim", None
        return value, "", column.justify

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        x = round(self.scroll_x)
        if y == 0:
            return self._crop(self._header_line(width), x, width)
        index = y - 1 + round(self.scroll_y)
        if not 0 <= index < len(self.rows):
            return Strip.blank(width, self.rich_style)
        row = self.rows[index]
        look = (
            index == self.cursor_row,
            index == self._hover_row,
            self.has_focus,
            width,
        )
        cached = self._lines.get(index)
        if (
            cached is None
            or cached[0].node is not row.node
            or cached[0].ray is not row.ray
            or cached[0].reserved != row.reserved
            or cached[0].stored != row.stored
            or cached[0].work != row.work
            or cached[1] != look
        ):
            if len(self._lines) > 2000:
                self._lines.clear()
            cached = self._lines[index] = (row, look, self._row_line(index, row, *look))
        return self._crop(cached[2], x, width)

    def _crop(self, line: Strip, x: int, width: int) -> Strip:
        return line.crop(x, x + width).adjust_cell_length(width, self.rich_style).simplify()

    def _row_line(
        self, index: int, row: Row, cursor: bool, hover: bool, _focus: bool, width: int
    ) -> Strip:
        row_style = self._style("nodes-table--odd-row" if index % 2 else "nodes-table--even-row")
        look = Style()
        if hover:
            look += self._style("nodes-table--hover")
        if cursor:
            look += self._style("nodes-table--cursor")
        # The cursor's colours win over a cell's own (a red DOWN reads on the cursor too).
        post = Style.from_color(look.color) + Style.from_color(bgcolor=look.bgcolor)
        segments: list[Segment] = []
        for i, column in enumerate(COLUMNS):
            text, kind, justify = self._cell(row, column)
            text_style = self._style(f"nodes-table--{kind}", partial=True) if kind else Style()
            pre = row_style + self._meta(index, i) + look
            segments += cell_segments(text, text_style, justify, self._width(column), pre, post)
        rest = row_style + look + self._meta(index, -1)
        segments.append(Segment(" " * max(0, width - self._table_width), rest))
        return Strip(segments)
