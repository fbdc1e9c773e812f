"""Pilot tests: the real keys on the real app, asserting on the app and back-end state."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from recorded import TRACE_START
from rich.cells import cell_len
from textual.color import Color
from textual.widgets import DataTable

from gridtui.backend import Backend
from gridtui.model.nodes import NodeState
from gridtui.prefs import Prefs
from gridtui.ui.app import GridApp, make_app
from gridtui.ui.dashboard import PANES
from gridtui.ui.readonly import action_name
from gridtui.ui.screens.help import HelpScreen, action_text, own_bindings
from gridtui.ui.screens.main import MainScreen
from gridtui.ui.screens.node_detail import NodeDetailScreen
from gridtui.ui.themes import DEFAULT_THEME, load_themes
from gridtui.ui.widgets.boosts_pane import BoostsPane
from gridtui.ui.widgets.core_bars import CoreBars
from gridtui.ui.widgets.filter_bar import FilterBar
from gridtui.ui.widgets.history_chart import HistoryChart
from gridtui.ui.widgets.nodes_table import NodesTable
from gridtui.ui.widgets.panes import NodesPane
from gridtui.ui.widgets.sparklines import SparklinesPane

SIZE = (140, 40)


def table(app: GridApp) -> NodesTable:
    return app.screen.query_one(NodesTable)


def notifications(app: GridApp) -> list[tuple[str, str]]:
    return [(n.message, n.severity) for n in app._notifications]


async def test_first_frame_shows_every_node_and_starts_the_backend(app: GridApp) -> None:
    started: list[bool] = []
    original = app.backend.start

    async def spy() -> None:
        started.append(True)
        await original()

    app.backend.start = spy  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert sorted(table(app).visible_names) == ["box1", "box2", "box3", "ws"]
        assert table(app).row_count == 4
        await app.workers.wait_for_complete()
        assert started == [True]
        gpu = table(app).get_cell("box1", "gpu")
        assert str(gpu).strip() == "-"  # no GPU is shown as '-', not 0
        assert str(table(app).get_cell("ws", "ray")) == "-"  # no Ray view yet
        assert str(table(app).get_cell("box3", "state")) == "DOWN"


async def test_sort_keys_change_row_order(app: GridApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        before = list(table(app).visible_names)
        assert before == ["box1", "box2", "ws", "box3"]  # by state, then name
        await pilot.press("s")  # next column: CPU%
        assert table(app).sort_index == 3
        assert table(app).visible_names == ["box2", "box1", "ws", "box3"]
        assert [str(table(app).get_row_at(i)[0]) for i in range(4)] == table(app).visible_names
        await pilot.press("S")  # reverse; nodes without a figure stay last
        assert table(app).sort_reverse is True
        assert table(app).visible_names == ["ws", "box1", "box2", "box3"]


async def test_slash_filter_narrows_rows_and_escape_restores(app: GridApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash")
        assert app.screen.query_one(FilterBar).has_focus
        await pilot.press("b", "o", "x")
        assert table(app).visible_names == ["box1", "box2", "box3"]
        await pilot.press("1")
        assert table(app).visible_names == ["box1"]
        assert table(app).row_count == 1
        await pilot.press("enter")  # keeps the filter, back to the table
        assert table(app).has_focus
        assert table(app).row_count == 1
        await pilot.press("escape")
        assert table(app).row_count == 4
        await pilot.press("slash", "d", "o", "w", "n")  # state matches too
        assert table(app).visible_names == ["box3"]


async def test_select_enter_opens_detail_and_escape_returns(app: GridApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down")
        assert table(app).current_node == "box2"
        assert app.screen.query_one(SparklinesPane).selected == "box2"
        await pilot.press("down", "enter")
        assert isinstance(app.screen, NodeDetailScreen)
        assert app.screen.node_name == "ws"
        cores = app.screen.query_one(CoreBars).cores
        assert cores == app.snapshot.node("ws").sample.cpu_per_core  # type: ignore[union-attr]
        assert len(cores) == 16
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        assert table(app).current_node == "ws"


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
async def test_detail_charts_fit_inside_their_borders(app: GridApp, size: tuple[int, int]) -> None:
    """Each plot is drawn to its chart's content size (inside the border) and keeps its
    title, on the smallest terminal and a large one."""
    async with app.run_test(size=size) as pilot:
        await pilot.press("down", "down", "enter")  # ws: the GPU node, two series
        await pilot.pause()
        charts = list(app.screen.query(HistoryChart))
        assert len(charts) == 4
        for chart in charts:
            lines = re.sub(r"\x1b\[[0-9;]*m", "", chart.plt.build()).rstrip("\n").split("\n")
            assert len(lines) <= chart.size.height, chart.id
            assert max(cell_len(line) for line in lines) <= chart.size.width, chart.id
            assert lines[0].strip(), f"{chart.id} lost its title at {size}"
            assert chart.region.width >= 20, chart.id  # the side column gives way at 80


async def test_question_mark_lists_every_key(app: GridApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        shown = {(row[1], row[2]) for row in app.screen.rows}
        for owner in (GridApp, MainScreen, NodesPane, BoostsPane, NodeDetailScreen):
            for binding in own_bindings(owner):
                if not binding.description:
                    continue  # the digits: one "1-5" row
                key = app.get_key_display(binding)
                assert (key, action_text(binding)) in shown
        assert app.screen.query_one(DataTable).row_count == len(app.screen.rows)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_t_switches_theme_and_remembers_it(app: GridApp, prefs_path: Path) -> None:
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == DEFAULT_THEME
        await pilot.press("t")
        assert app.theme != DEFAULT_THEME
        assert app.backend.prefs.get("theme") == app.theme
        assert Prefs(prefs_path).get("theme") == app.theme  # on disk for the next run


async def test_palette_theme_command(app: GridApp, prefs_path: Path) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"Theme: gridtui-paper")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.theme == "gridtui-paper"
        assert Prefs(prefs_path).get("theme") == "gridtui-paper"


async def test_palette_has_an_entry_for_every_action(app: GridApp) -> None:
    """Every described key of the app, the dashboard and each registered pane is in the
    palette, and names an action its owner has (a key bound to a missing action does
    nothing, silently)."""
    owners = (GridApp, MainScreen, *(pane.kind for pane in PANES))
    bound = [(o, b) for o in owners for b in own_bindings(o) if b.description]
    names = {action_name(b.action) for _, b in bound}
    # Not a set that could be empty: the keys of the app, the screen and four panes' keys.
    assert {"help", "open_detail", "start_cluster", "quick_boost", "sort_next"} <= names
    assert {"release_reservation", "memory_store", "memory_retrieve", "memory_delete"} <= names
    for owner, binding in bound:
        assert callable(getattr(owner, f"action_{action_name(binding.action)}", None)), binding
    async with app.run_test(size=SIZE):
        helps = {c.help for c in app.get_system_commands(app.screen)}
        assert {binding.tooltip for _, binding in bound} <= helps


async def test_remembered_theme_is_used_and_unknown_theme_falls_back(backend: Backend) -> None:
    backend.prefs.set("theme", "gridtui-phosphor")
    app = make_app(backend, theme="no-such-theme")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "gridtui-phosphor"
        assert any("no-such-theme" in m and s == "warning" for m, s in notifications(app))
    chosen = make_app(backend, theme="gridtui-paper")
    assert chosen.theme == "gridtui-paper"
    assert backend.prefs.get("theme") == "gridtui-paper"


@pytest.mark.parametrize("theme", ["gridtui-dusk", "gridtui-phosphor", "textual-dark"])
async def test_a_dark_theme_costs_no_second_css_pass_at_start(
    backend: Backend, monkeypatch: pytest.MonkeyPatch, theme: str
) -> None:
    """Issue 7: a theme set the usual way re-parsed every stylesheet after the first parse
    (40 to 80 ms of the first frame); the start's theme is in the first parse instead."""
    passes: list[str] = []
    refresh_css = GridApp.refresh_css

    def counted(self: GridApp, animate: bool = True) -> None:
        passes.append(self.theme)
        refresh_css(self, animate)

    monkeypatch.setattr(GridApp, "refresh_css", counted)
    app = make_app(backend, theme=theme)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert passes == [] and app.theme == theme
        title = app.screen.query_one(NodesTable).styles.border_title_color  # $primary
        assert title == Color.parse(app.current_theme.primary)
        assert app.has_class(f"-theme-{theme}", "-dark-mode")
        await pilot.press("t")  # a change later still goes the usual way
        await pilot.pause()
        assert passes == [app.theme] and app.theme != theme


def test_own_themes_load_from_files() -> None:
    names = [t.name for t in load_themes()]
    assert {"gridtui-dusk", "gridtui-paper"} <= set(names)


async def test_hub_alerts_become_notifications(app: GridApp) -> None:
    hub = app.backend.metrics
    async with app.run_test(size=SIZE) as pilot:
        sample = {
            "t": 0.0,
            "cpu": 99.0,
            "cores": [99.0] * 8,
            "load": [8, 8, 8],
            "mem": {"total": 100, "used": 10},
        }
        end = TRACE_START + 120
        for i in range(12):  # sustained over the 10 s threshold
            hub.record("box1", {**sample, "t": end + i}, received=end + i)
        hub.record("box3", {**sample, "t": end}, received=end)  # a DOWN node comes back
        for _ in range(100):  # the table follows the hub's coalesced snapshot
            await pilot.pause(0.1)
            if str(table(app).get_cell("box1", "cpu")).strip() == "99.0":
                break
        seen = notifications(app)
        assert any("box1: cpu at 99%" in m and s == "warning" for m, s in seen)
        assert any("box3 is back up" in m and s == "information" for m, s in seen)
        # The hub's snapshot reached the app as a message, and the table follows it.
        assert app.snapshot.node("box3").state is NodeState.UP  # type: ignore[union-attr]
        assert str(table(app).get_cell("box1", "cpu")).strip() == "99.0"


async def test_q_quits_with_code_zero(app: GridApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0
