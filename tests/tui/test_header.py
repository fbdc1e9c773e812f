"""The header keeps its clock in view: a long Ray message wraps onto lines below it."""

from __future__ import annotations

from textual.pilot import Pilot

from gridtui.ui.app import GridApp
from gridtui.ui.widgets.header import ClusterHeader

LONG = (
    "cannot connect to Ray: ConnectionError: the GCS at 10.0.0.1:6379 did not answer "
    "within 30 s; is the head up and is port 6379 open between this machine and it?"
)


def header(app: GridApp) -> ClusterHeader:
    return app.screen.query_one(ClusterHeader)


async def settle(pilot: Pilot[None], app: GridApp, wanted: str) -> None:
    """Wait (bounded) for the published view to reach the header: a loaded machine is slow."""
    for _ in range(50):
        await pilot.pause(0.1)
        if wanted in header(app).render().plain:
            return


async def test_a_short_message_stays_on_the_one_line(app: GridApp) -> None:
    async with app.run_test(size=(140, 40)) as pilot:
        app.backend.ray_view.set(False, {}, "the Ray head at ws.lab:6379 does not answer")
        await settle(pilot, app, "Ray down")
        text = header(app).render().plain
        assert "Ray down: the Ray head at ws.lab:6379 does not answer" in text
        assert "\n" not in text and header(app).size.height == 1
        assert text.rstrip().endswith("09:31:59")


async def test_a_long_message_wraps_below_and_the_clock_stays(app: GridApp) -> None:
    async with app.run_test(size=(100, 40)) as pilot:
        app.backend.ray_view.set(False, {}, LONG)
        await settle(pilot, app, "Ray down")
        await pilot.pause(0.2)  # the wrapped lines follow the first in the same refresh
        first, *below = header(app).render().plain.split("\n")
        assert "Ray down" in first and first.rstrip().endswith("09:31:59")
        assert 1 <= len(below) <= 2 and header(app).size.height == 1 + len(below)
        assert " ".join(line.strip() for line in below) == LONG
        # Back to short: one line again, and the panes get the room back.
        app.backend.ray_view.set(True, {})
        await settle(pilot, app, "Ray connected")
        await pilot.pause(0.2)
        assert header(app).size.height == 1
        assert "Ray connected" in header(app).render().plain
