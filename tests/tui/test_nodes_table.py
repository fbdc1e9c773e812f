"""The Nodes table drawn line by line: header arrow, cursor keys, paging, mouse, filter."""

from __future__ import annotations

from pathlib import Path

from gridtui.backend import Backend
from gridtui.config import ClusterConfig
from gridtui.model.nodes import NodeState
from gridtui.prefs import Prefs
from gridtui.services.metrics.hub import MetricsHub
from gridtui.ui.app import GridApp, make_app
from gridtui.ui.widgets.nodes_table import NodesTable
from gridtui.ui.widgets.sparklines import NodeSparks, SparklinesPane

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
        assert table(app).border_title == "1 Nodes 3/4  filter: box"


async def test_a_modal_holds_the_panes_below_until_it_closes(app: GridApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        hub = app.backend.metrics
        below = table(app)
        shown = {r.node.name: r.node for r in below.rows}
        await pilot.press("question_mark")
        hub.mark_state("box1", NodeState.STALE, "no sample for 2.0s")
        hub.publish_now()
        await pilot.pause()
        assert app.snapshot.node("box1").state is NodeState.STALE  # type: ignore[union-attr]
        # Under the help overlay the table keeps what it drew: nothing below is redrawn.
        assert {r.node.name: r.node for r in below.rows} == shown
        assert below.get_cell("box1", "state") == "UP"
        await pilot.press("escape")
        assert below.get_cell("box1", "state") == "STALE"
        spark_rows = app.screen.query_one(NodeSparks).nodes
        assert next(n for n in spark_rows if n.name == "box1").state is NodeState.STALE


async def test_long_names_are_shown_whole_in_the_table_and_the_sparklines(tmp_path: Path) -> None:
    backend = many_nodes(3, tmp_path / "prefs.json")
    long_name = "gpu-worker-17.lab"  # longer than both panes' narrowest name column
    config = backend.config.model_copy(
        update={"nodes": [backend.config.nodes[0].model_copy(update={"name": long_name})]}
    )
    hub = MetricsHub(config, clock=lambda: T0, wall_clock=lambda: T0)
    hub.record(long_name, {"t": T0, "cpu": 50.0, "mem": {"total": 100, "used": 40}}, received=T0)
    app = make_app(Backend(config=config, prefs=backend.prefs, hub=hub, streaming=False, ray=False))
    async with app.run_test(size=SIZE) as pilot:
        t = table(app)
        assert f" {long_name} " in t.render_line(1).text
        assert "Role" in t.render_line(0).text  # the columns after it moved over
        await pilot.pause()  # the sparklines come in the frame after the first
        sparks = app.screen.query_one(NodeSparks)
        assert sparks.render_line(0).text.startswith(f"{long_name} ")
