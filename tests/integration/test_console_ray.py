"""The console against the real demo cluster: Ray columns, lifecycle keys, logs, a dead head."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from boost_cluster import BoostCluster
from textual.pilot import Pilot
from textual.widgets import Log

from gridtui.agent import nodescript
from gridtui.backend import make_backend
from gridtui.config import ClusterConfig
from gridtui.prefs import Prefs
from gridtui.services.cluster import demo
from gridtui.ui.app import GridApp, make_app
from gridtui.ui.screens.cluster_progress import ClusterProgressScreen
from gridtui.ui.screens.confirm import ConfirmScreen
from gridtui.ui.screens.main import MainScreen
from gridtui.ui.screens.ray_logs import RayLogScreen
from gridtui.ui.widgets.header import ClusterHeader
from gridtui.ui.widgets.nodes_table import NodesTable

pytestmark = pytest.mark.ray

SIZE = (140, 40)
NAMES = ("head", "worker-1", "worker-2")


@pytest.fixture(scope="module")
def demo_cluster(shared_demo: BoostCluster) -> ClusterConfig:
    """The shared demo (conftest.py)."""
    return shared_demo.config


@pytest.fixture
def no_driver_here(shared_demo: BoostCluster) -> Iterator[None]:
    """The shared demo's in-process driver disconnected while a test kills its head and
    starts it again (a driver whose GCS comes back as a new cluster is not usable), and
    connected to the new head after."""
    shared_demo.drop_driver()
    try:
        yield
    finally:
        shared_demo.reconnect()


def _gone(pid: int) -> bool:
    """No such process, or only its zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def pids(config: ClusterConfig, node: str) -> set[int]:
    return set(nodescript.find_pids([f"{config.ray.temp_dir}/{node}"])[0])


def ray_states(app: GridApp) -> dict[str, bool | None]:
    ray = app.ray_view.nodes
    return {n.name: None if n.name not in ray else ray[n.name].alive for n in app.snapshot.nodes}


async def wait_for(
    pilot: Pilot[None], predicate: Callable[[], bool], timeout: float, what: str
) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.25)


async def finish_operation(pilot: Pilot[None], app: GridApp) -> None:
    """Wait for the cluster worker, then close its progress view."""
    await wait_for(
        pilot,
        lambda: isinstance(app.screen, ClusterProgressScreen) and app.screen.finished is not None,
        180,
        "the operation",
    )
    assert app.screen.finished, [(n.title, n.message) for n in app._notifications]
    await pilot.press("escape")
    assert isinstance(app.screen, MainScreen)


def console(tmp_path: Path, config: ClusterConfig) -> GridApp:
    return make_app(make_backend(config, prefs=Prefs(tmp_path / "prefs.json")))


async def test_ray_columns_and_the_lifecycle_keys(
    demo_cluster: ClusterConfig, tmp_path: Path
) -> None:
    config = demo_cluster
    app = console(tmp_path, config)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            pilot, lambda: ray_states(app) == dict.fromkeys(NAMES, True), 60, "three alive nodes"
        )
        table = app.screen.query_one(NodesTable)
        await wait_for(
            pilot,
            lambda: str(table.get_cell("worker-1", "ray_cpu")) == "0/1",
            10,
            "the Ray columns",
        )
        assert str(table.get_cell("head", "ray")) == "alive"
        assert str(table.get_cell("head", "ray_store")).endswith("/256.0M")
        assert "Ray connected" in str(app.screen.query_one(ClusterHeader).render())

        await pilot.press("down", "down")
        assert table.current_node == "worker-2"
        before = pids(config, "worker-2")
        assert before

        # Cancelled: nothing changes.
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen) and "worker-2" in app.screen.title_text
        await pilot.press("escape")
        await pilot.pause(0.5)
        assert pids(config, "worker-2") == before

        # Confirmed: only worker-2's raylet goes; Ray's own table says so.
        await pilot.press("x", "y")
        await finish_operation(pilot, app)
        assert pids(config, "worker-2") == set()
        assert pids(config, "head") and pids(config, "worker-1")
        await wait_for(
            pilot, lambda: ray_states(app)["worker-2"] is not True, 30, "worker-2 gone in Ray"
        )
        assert ray_states(app)["head"] and ray_states(app)["worker-1"]

        # Start brings it back (the others are left running).
        await pilot.press("u", "y")
        await finish_operation(pilot, app)
        assert pids(config, "worker-2")
        await wait_for(
            pilot, lambda: ray_states(app) == dict.fromkeys(NAMES, True), 30, "worker-2 back"
        )
        assert ("Ray is up: 1 started, 2 already running", "information") in [
            (n.message, n.severity) for n in app._notifications
        ]

        # Install finds every node already matching.
        await pilot.press("i", "y")
        await finish_operation(pilot, app)
        assert any("ready on 3 nodes" in n.message for n in app._notifications)

        # The log viewer shows the node's Ray logs.
        await pilot.press("l")
        assert isinstance(app.screen, RayLogScreen)
        await wait_for(pilot, lambda: app.screen.reads > 0, 30, "the logs")  # type: ignore[attr-defined]
        text = "\n".join(app.screen.query_one(Log).lines)
        assert "==> raylet.out <==" in text and "(raylet)" in text
        await pilot.press("escape")
        await pilot.press("q")


async def test_dead_head_shows_ray_down_and_the_console_keeps_going(
    demo_cluster: ClusterConfig, no_driver_here: None, tmp_path: Path
) -> None:
    """Kills the head's GCS, then brings the demo back: runs last in this module."""
    config = demo_cluster
    app = console(tmp_path, config)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            pilot, lambda: ray_states(app) == dict.fromkeys(NAMES, True), 60, "three alive nodes"
        )
        gateway = app.backend.gateway
        assert gateway is not None and gateway.isolated
        driver = gateway.driver_pid  # the console's Ray driver is a process of its own
        assert driver is not None and driver != os.getpid()
        table = nodescript.proc_table()
        gcs = [p for p in pids(config, "head") if "gcs_server" in " ".join(table[p][3])]
        assert len(gcs) == 1
        os.kill(gcs[0], signal.SIGKILL)
        await wait_for(pilot, lambda: app.ray_view.connected is False, 30, "Ray down")
        assert "Ray down" in str(app.screen.query_one(ClusterHeader).render())
        seen = app.snapshot.node("worker-1").sample.received  # type: ignore[union-attr]
        started = time.monotonic()
        sort_before = app.screen.query_one(NodesTable).sort_index
        await pilot.pause(15)
        assert app.is_running and time.monotonic() - started < 25  # the loop was never blocked
        await pilot.press("s")
        assert app.screen.query_one(NodesTable).sort_index != sort_before
        assert app.snapshot.node("worker-1").sample.received > seen  # type: ignore[union-attr]
        assert app.ray_view.connected is False
        # The head comes back: the gateway reconnects by itself and the Ray columns refill.
        await demo.stop_demo()
        await demo.ensure_demo_running()
        await wait_for(
            pilot,
            lambda: (
                app.ray_view.connected is True and ray_states(app) == dict.fromkeys(NAMES, True)
            ),
            90,
            "Ray back with three alive nodes",
        )
        assert "connected" in str(app.screen.query_one(ClusterHeader).render())
        # The driver of the dead head was killed by its PID; a new one serves the new head.
        assert gateway.driver_pid not in (None, driver)
        assert _gone(driver)
        await pilot.press("q")
