"""The header keeps its clock in view (a long Ray message wraps onto lines below it) and says
what auto-offload is doing, read from the fake engine."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from fake_control import FakeControl, attach
from recorded import recorded_backend
from textual.color import Color
from textual.pilot import Pilot

from gridtui.errors import GridError
from gridtui.prefs import Prefs
from gridtui.ui.app import GridApp, make_app
from gridtui.ui.screens.confirm import ConfirmScreen
from gridtui.ui.screens.offload import OffloadScreen
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


# -- auto-offload's segment -------------------------------------------------------------------


def offload_app(trace_path: Path, prefs_path: Path, fake: FakeControl, **kw: bool) -> GridApp:
    backend = recorded_backend(trace_path, Prefs(prefs_path), ray_view=True)
    attach(backend, fake)
    return make_app(backend, **kw)


async def engine_reads(pilot: Pilot[None], app: GridApp, wanted: str) -> str:
    """Read the fake engine once, as the feed's poll would, and return the header's text."""
    assert app.backend.offload is not None
    await app.backend.offload.read_once()
    await settle(pilot, app, wanted)
    return header(app).render().plain


async def test_the_header_follows_the_engine_off_on_dry_run_and_fenced(
    trace_path: Path, prefs_path: Path
) -> None:
    fake = FakeControl()  # off, holding no policy of its own
    app = offload_app(trace_path, prefs_path, fake)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot, app, "Ray connected")
        assert "offload" not in header(app).render().plain  # the engine has not answered
        assert "auto-offload off" in await engine_reads(pilot, app, "auto-offload off")
        # Turned on from the console itself (`A` on the Offload view, confirmed).
        await pilot.press("O")
        await app.workers.wait_for_complete()
        assert isinstance(app.screen, OffloadScreen)
        await pilot.press("A")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await settle(pilot, app, "auto-offload on")
        text = header(app).render().plain
        assert "auto-offload on" in text and "fenced" not in text and fake.offload_policy.enabled
        await pilot.press("escape")  # back to the dashboard: its header follows too
        assert not isinstance(app.screen, OffloadScreen)
        fake.offload_fenced = ["ws"]
        text = await engine_reads(pilot, app, "fenced")
        assert "auto-offload on · 1 fenced" in text
        fake.offload_policy = dataclasses.replace(fake.offload_policy, dry_run=True)
        fake.offload_fenced = []
        text = await engine_reads(pilot, app, "dry-run")
        assert "auto-offload dry-run" in text and "fenced" not in text
        fake.offload_policy = dataclasses.replace(fake.offload_policy, enabled=False)
        text = await engine_reads(pilot, app, "auto-offload off")
        assert "auto-offload off" in text and "dry-run" not in text


async def test_the_header_says_unknown_when_the_engine_cannot_be_read(
    trace_path: Path, prefs_path: Path
) -> None:
    fake = FakeControl().lab_offload()  # on, ws fenced
    app = offload_app(trace_path, prefs_path, fake)
    async with app.run_test(size=(140, 40)) as pilot:
        assert "auto-offload on · 1 fenced" in await engine_reads(pilot, app, "fenced")
        fake.fail = GridError("the controller did not answer")
        text = await engine_reads(pilot, app, "auto-offload ?")
        assert "auto-offload ?" in text and "fenced" not in text
        fake.fail = None
        assert "1 fenced" in await engine_reads(pilot, app, "fenced")
        app.backend.ray_view.set(False, {}, "the Ray head at ws.lab:6379 does not answer")
        await settle(pilot, app, "Ray down")
        await pilot.pause(0.2)
        text = header(app).render().plain
        assert "auto-offload ?" in text and "fenced" not in text


async def test_at_80_columns_read_only_ray_and_the_clock_stay(
    trace_path: Path, prefs_path: Path
) -> None:
    fake = FakeControl().lab_offload()
    app = offload_app(trace_path, prefs_path, fake, read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        text = await engine_reads(pilot, app, "fenced")
        assert "\n" not in text and header(app).size.height == 1
        assert "read-only" in text and "Ray connected" in text
        assert "offload on · 1 fenced" in text and "auto-offload" not in text  # the short form
        assert text.rstrip().endswith("09:31:59")
        # The Offload view's subtitle leaves no room: the segment goes (the view says it all).
        await pilot.press("O")
        await app.workers.wait_for_complete()
        await settle(pilot, app, "Offload")
        text = header(app).render().plain
        assert "read-only" in text and "Ray connected" in text and ">  Offload" in text
        assert "offload" not in text.replace("Offload", "") and text.rstrip().endswith("09:31:59")
        await pilot.press("escape")
        # Ray's message moves below before the offload segment goes; the clock stays.
        app.backend.ray_view.set(False, {}, "the Ray head at ws.lab:6379 does not answer")
        await settle(pilot, app, "Ray down")
        await pilot.pause(0.2)
        first, *below = header(app).render().plain.split("\n")
        assert "read-only" in first and "Ray down" in first and "offload ?" in first
        assert first.rstrip().endswith("09:31:59") and below


# -- Ray's token auth ----------------------------------------------------------------------------


async def test_a_cluster_file_without_ray_auth_says_so_in_the_warning_colour(
    trace_path: Path, prefs_path: Path
) -> None:
    backend = recorded_backend(trace_path, Prefs(prefs_path), ray_view=True)
    hub = backend.metrics
    hub.config = hub.config.model_copy(
        update={"ray": hub.config.ray.model_copy(update={"auth": "disabled"})}
    )
    app = make_app(backend, read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, "Ray connected")
        text = header(app).render().plain
        # Never given way, even at 80 columns beside read-only, Ray's state and the clock.
        assert "Ray auth off" in text and "read-only" in text and "Ray connected" in text
        assert text.rstrip().endswith("09:31:59")
        badge = header(app).get_component_rich_style("cluster-header--auth-off")
        warning = Color.parse(app.current_theme.warning)
        assert badge.bgcolor is not None and badge.bgcolor.triplet is not None
        # The theme's warning colour (Textual blends it, so a channel may differ by one).
        assert all(abs(a - b) <= 2 for a, b in zip(badge.bgcolor.triplet, warning.rgb, strict=True))


async def test_token_auth_is_the_quiet_default(app: GridApp) -> None:
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause(0.2)
        assert app.backend.metrics.config.ray.auth == "token"
        assert "auth" not in header(app).render().plain
