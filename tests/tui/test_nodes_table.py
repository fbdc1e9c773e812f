"""The Nodes table drawn line by line: header arrow, cursor keys, paging, mouse, filter."""

from __future__ import annotations

from pathlib import Path

from gridtui.backend import Backend
from gridtui.config import ClusterConfig
from gridtui.prefs import Prefs
from gridtui.services.metrics import MetricsHub
from gridtui.ui.app import GridApp, make_app
from gridtui.ui.widgets.nodes_table import NodesTable
from gridtui.ui.widgets.sparklines import SparklinesPane

SIZE = (140, 40)
T0 = 1748856600.0


def table(app: GridApp) -> NodesTable:
    return app.screen.query_one(NodesTable)


def header(app: GridApp) -> str:
    return table(app).render_line(0).text


def many_nodes(count: int, prefs: Path) -> Backend:
    """`count` nodes with one reading each, no streams: the cursor has somewhere to go."""
    config = ClusterConfig.model_validate(
        {
            "name": "many",
            "nodes": [
                {"name": f"n{i:03d}", "host": f"10.0.{i // 250}.{i % 250 + 1}"}
                for i in range(count)
            ],
        }
    )
    hub = MetricsHub(config, clock=lambda: T0, wall_clock=lambda: T0)
    for i in range(count):
        hub.record(
            f"n{i:03d}",
            {"t": T0, "cpu": i % 97, "cores": [1.0], "mem": {"total": 100, "used": 40}},
            received=T0,
        )
    return Backend(config=config, prefs=Prefs(prefs), hub=hub, streaming=False, ray=False)


async def test_the_sort_arrow_moves_with_the_sort_at_once(app: GridApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        assert "State ▲" in header(app)
        await pilot.press("s")  # no new snapshot arrives: the header must not wait for one
        assert "CPU% ▲" in header(app) and "State ▲" not in header(app)
        await pilot.press("S")
        assert "CPU% ▼" in header(app)


async def test_a_click_moves_the_cursor_and_points_the_panes(app: GridApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        names = table(app).visible_names
        # The border is line 0 of the widget, the header line 1, the first row line 2.
        assert await pilot.click(NodesTable, offset=(4, 4))
        assert table(app).current_node == names[2]
        assert app.screen.query_one(SparklinesPane).selected == names[2]
        assert await pilot.click(NodesTable, offset=(4, 1))  # the header: no row
        assert table(app).current_node == names[2]


async def test_hover_marks_a_row_until_a_key_moves_the_cursor(app: GridApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        plain = table(app).render_line(3)
        await pilot.hover(NodesTable, offset=(4, 4))
        assert table(app).render_line(3) != plain
        await pilot.press("down")
        assert table(app).render_line(3) == plain


async def test_paging_and_ends_keep_the_cursor_in_view(tmp_path: Path) -> None:
    app = make_app(many_nodes(100, tmp_path / "prefs.json"))
    async with app.run_test(size=SIZE) as pilot:
        t = table(app)
        assert t.row_count == 100 and t.current_node == t.visible_names[0]
        rows_shown = t.scrollable_content_region.height - 1  # the header stays put
        await pilot.press("pagedown")
        assert t.cursor_row == rows_shown
        assert t.scroll_y <= t.cursor_row < t.scroll_y + rows_shown
        await pilot.press("end")
        assert t.current_node == t.visible_names[-1]
        assert t.scroll_y == t.max_scroll_y > 0
        assert t.current_node in t.render_line(rows_shown).text
        assert "Node" in t.render_line(0).text  # the header scrolls with nothing
        await pilot.press("pageup")
        assert t.cursor_row == 99 - rows_shown
        await pilot.press("home")
        assert t.cursor_row == 0 and t.scroll_y == 0
        await pilot.press("up")  # already at the top: stays
        assert t.cursor_row == 0


async def test_filtering_out_the_current_node_moves_the_cursor_to_the_first_row(
    app: GridApp,
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "down")
        assert table(app).current_node == "ws"
        await pilot.press("slash", "b", "o", "x", "enter")
        assert table(app).current_node == table(app).visible_names[0] == "box1"
        assert app.screen.query_one(SparklinesPane).selected == "box1"
        assert table(app).border_title == "Nodes 3/4  filter: box"
