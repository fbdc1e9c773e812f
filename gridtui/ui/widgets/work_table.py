"""The Work view's table: jobs, then actors and tasks by node, each pending row with why."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from gridtui.model.reservations import format_amount
from gridtui.model.work import JobRow, WorkItem, WorkSnapshot
from gridtui.ui.widgets.cursor_keys import CURSOR_BINDINGS

UNPLACED = "(not placed)"
"""The node heading of actors Ray has not placed yet."""
WIDTH = 160
"""Cells a line may take (wider terminals show them whole, narrower scroll sideways)."""


@dataclass(frozen=True)
class Line:
    """One line of the table: a heading, a job, a work item, or why the row above waits.
    `key` is the job's or item's id on selectable lines ("" elsewhere)."""

    text: str
    look: str
    key: str = ""
    job: JobRow | None = None
    item: WorkItem | None = None


def _clock(at: float | None) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at)) if at else "-"


def _held(cpu: float, gpu: float) -> str:
    parts = [format_amount("cpu", cpu)] if cpu else []
    parts += [format_amount("gpu", gpu)] if gpu else []
    return " ".join(parts) or "-"


def _asked(job: JobRow) -> str:
    res = job.resources
    text = _held(res.get("CPU", 0.0), res.get("GPU", 0.0))
    memory = res.get("memory", 0.0)
    if memory:
        text = (text + " " if text != "-" else "") + format_amount("memory", memory)
    return text


def job_text(job: JobRow) -> str:
    return (
        f"  {job.status:<9} {set_cell_size(job.id, 22)} {set_cell_size(job.node or '-', 10)} "
        f"{set_cell_size(_asked(job), 14)} {_clock(job.start)}  {job.entrypoint}"
    )


def item_text(item: WorkItem) -> str:
    name = item.name + (f" ({item.label})" if item.label and item.kind == "actor" else "")
    pid = str(item.pid) if item.pid is not None else "-"
    job = item.job_id or "-"
    return (
        f"  {item.kind:<5} {set_cell_size(item.state, 16)} {set_cell_size(name, 34)} "
        f"{set_cell_size(_held(item.cpu, item.gpu), 12)} pid {pid:<7} job {job}"
    )


JOB_HEAD = f"  {'STATUS':<9} {'ID':<22} {'NODE':<10} {'ASKS':<14} {'START':<8}  ENTRYPOINT"
ITEM_HEAD = f"  {'KIND':<5} {'STATE':<16} {'NAME':<34} {'HOLDS':<12} {'PID':<11} JOB"


def matches(text: str, needle: str) -> bool:
    return not needle or needle in text.lower()


def _job_words(job: JobRow) -> str:
    return f"{job.id} {job.status} {job.node} {job.entrypoint} {job.job_id}"


def _item_words(item: WorkItem) -> str:
    return f"{item.kind} {item.id} {item.name} {item.label} {item.node} {item.state} {item.job_id}"


def build_lines(snap: WorkSnapshot, needle: str = "") -> list[Line]:
    """The table's lines for a snapshot and a filter (a case-insensitive substring of any
    of a row's words, its node's name included). Pure: the bench times it."""
    needle = needle.strip().lower()
    lines: list[Line] = []
    jobs = [j for j in snap.jobs if matches(_job_words(j), needle)]
    lines.append(Line(f"Jobs ({len(jobs)} of {len(snap.jobs)})" if needle else
                      f"Jobs ({len(snap.jobs)})", "section"))  # fmt: skip
    if not jobs:
        lines.append(Line("  no jobs: j submits one" if not needle else "  none match", "dim"))
    else:
        lines.append(Line(JOB_HEAD, "dim"))
    for job in jobs:
        lines.append(Line(job_text(job), job.status.lower(), job.id, job=job))
        why = snap.pending.get(job.id)
        if job.pending and why:
            lines.append(Line(f"      waits: {why}", "why"))
    waiting = [g for g in snap.groups if g.state == "PENDING" and not g.gridtui]
    for group in waiting:
        why = snap.pending.get(group.id, "")
        lines.append(
            Line(f"  group {group.id} ({group.owner} {group.owner_id}) PENDING", "pending")
        )
        if why:
            lines.append(Line(f"      waits: {why}", "why"))
    if not snap.tasks_known:
        lines.append(Line("  (running tasks unknown: Ray's state API is not served)", "dim"))
    lines.append(Line(ITEM_HEAD, "dim"))
    for node, items in snap.by_node().items():
        shown = [i for i in items if matches(f"{node} " + _item_words(i), needle)]
        if needle and not shown:
            continue
        actors = sum(1 for i in shown if i.kind == "actor")
        tasks = sum(1 for i in shown if i.kind == "task")
        jobs_here = len(shown) - actors - tasks
        counts = [f"{n} {w}{'s' if n != 1 else ''}" for n, w in
                  ((actors, "actor"), (tasks, "task"), (jobs_here, "job")) if n]  # fmt: skip
        lines.append(Line(f"{node or UNPLACED} · {', '.join(counts) or 'nothing running'}",
                          "section"))  # fmt: skip
        lines += [Line(item_text(i), "item", i.id, item=i) for i in shown]
    own = [i for i in snap.own_items() if matches(_item_words(i), needle)]
    if own:
        lines.append(Line(f"gridtui's own ({len(own)}): not stopped from here", "section"))
        lines += [Line(item_text(i) + f"  on {i.node}", "dim") for i in own]
    return lines


class WorkTable(ScrollView, can_focus=True):
    """Line-drawn from the lines it was last given: only the lines in view are drawn, so a
    thousand actors cost what a screenful does."""

    DEFAULT_CSS = """
    WorkTable {
        background: $surface;
        color: $foreground;
        & > .work-table--section { text-style: bold; color: $accent; }
        & > .work-table--why { color: $warning; }
        & > .work-table--dim { color: $text-muted; }
        & > .work-table--pending { color: $warning; }
        & > .work-table--failed { color: $error; }
        & > .work-table--running { color: $success; }
        & > .work-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
        }
        &:focus > .work-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
        }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "work-table--section",
        "work-table--why",
        "work-table--dim",
        "work-table--pending",
        "work-table--failed",
        "work-table--running",
        "work-table--cursor",
    }

    BINDINGS: ClassVar[list[BindingType]] = CURSOR_BINDINGS

    class Chosen(Message):
        """The cursor moved onto a job or a work item."""

        def __init__(self, line: Line) -> None:
            super().__init__()
            self.line = line

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: list[Line] = []
        self.cursor = -1
        self._strips: dict[int, tuple[Line, bool, int, Strip]] = {}
        self._styles: dict[str, Style] = {}

    @property
    def current(self) -> Line | None:
        return self.lines[self.cursor] if 0 <= self.cursor < len(self.lines) else None

    def show(self, lines: list[Line]) -> None:
        """New lines; the cursor stays on the same job or item when it is still there."""
        key = self.current.key if self.current is not None else ""
        old, old_cursor = self.lines, self.cursor
        self.lines = lines
        keys = [line.key for line in lines]
        if key and key in keys:
            self.cursor = keys.index(key)
        else:
            self.cursor = next((i for i, k in enumerate(keys) if k), -1)
        if len(old) != len(lines):
            self.virtual_size = Size(WIDTH, len(lines))
        top = round(self.scroll_y)
        for y in range(self.scrollable_content_region.height):
            i = top + y
            moved = i in (self.cursor, old_cursor) and self.cursor != old_cursor
            if i >= len(lines) or i >= len(old) or moved or lines[i] != old[i]:
                self.refresh_line(i)

    def notify_style_update(self) -> None:
        self._styles.clear()
        self._strips.clear()
        super().notify_style_update()

    def _style(self, look: str) -> Style:
        style = self._styles.get(look)
        if style is None:
            name = f"work-table--{look}"
            style = (
                self.get_component_rich_style(name, partial=True)
                if name in self.COMPONENT_CLASSES
                else Style()
            )
            self._styles[look] = style
        return style

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        index = y + round(self.scroll_y)
        if not 0 <= index < len(self.lines):
            return Strip.blank(width, self.rich_style)
        line = self.lines[index]
        cursor = index == self.cursor
        cached = self._strips.get(index)
        if cached is None or cached[0] != line or cached[1] != cursor or cached[2] != width:
            style = self.rich_style + self._style(line.look)
            if cursor:
                style += self._style("cursor")
            text = set_cell_size(line.text, max(width, cell_len(line.text)))
            strip = Strip([Segment(text, style)])
            if len(self._strips) > 500:
                self._strips.clear()
            cached = self._strips[index] = (line, cursor, width, strip)
        x = round(self.scroll_x)
        return cached[3].crop(x, x + width).adjust_cell_length(width, self.rich_style)

    # -- the cursor: it rests on jobs and items only ---------------------------------------

    def _move(self, index: int, step: int) -> None:
        n = len(self.lines)
        while 0 <= index < n and not self.lines[index].key:
            index += step
        if not 0 <= index < n:
            return
        old, self.cursor = self.cursor, index
        for i in (old, index):
            self.refresh_line(i)
        top = round(self.scroll_y)
        height = max(1, self.scrollable_content_region.height)
        if index < top:
            self.scroll_to(y=max(0, index - 1), animate=False, immediate=True)
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False, immediate=True)
        self.post_message(self.Chosen(self.lines[index]))

    def action_cursor_up(self) -> None:
        self._move(self.cursor - 1, -1)

    def action_cursor_down(self) -> None:
        self._move(self.cursor + 1, 1)

    def action_page_up(self) -> None:
        self._move(max(0, self.cursor - self.scrollable_content_region.height), 1)

    def action_page_down(self) -> None:
        page = self.scrollable_content_region.height
        self._move(min(len(self.lines) - 1, self.cursor + page), -1)

    def action_first(self) -> None:
        self._move(0, 1)

    def action_last(self) -> None:
        self._move(len(self.lines) - 1, -1)
