"""The dashboard's boost keys and the Offload view's tuning on the real demo cluster, checked
by an independent driver."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from boost_cluster import BoostCluster
from textual.pilot import Pilot

from gridtui.backend import make_backend
from gridtui.config import ClusterConfig
from gridtui.prefs import Prefs
from gridtui.services.ray import auth as ray_auth
from gridtui.ui.app import GridApp, make_app
from gridtui.ui.screens.boost_form import BoostForm
from gridtui.ui.screens.confirm import ConfirmScreen
from gridtui.ui.screens.main import MainScreen
from gridtui.ui.screens.offload import OffloadScreen
from gridtui.ui.widgets.boosts_pane import BoostsPane
from gridtui.ui.widgets.nodes_table import NodesTable

pytestmark = pytest.mark.ray

SIZE = (140, 40)
NAMES = ("head", "worker-1", "worker-2")
ROOT = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).resolve().parent / "ray_probe.py"


@pytest.fixture(scope="module")
def demo_cluster(shared_demo: BoostCluster) -> ClusterConfig:
    """The shared demo (conftest.py): every test here leaves it as it found it."""
    return shared_demo.config


def own_driver(config: ClusterConfig, program: list[str], *args: str) -> Any:
    """`python PROGRAM ADDRESS ARGS`, a Ray driver process of its own (PROGRAM: a script,
    or `-c CODE`); its last line of output, as JSON."""
    address = f"{config.head.host}:{config.ray.port}"
    proc = subprocess.run(
        [sys.executable, *program, address, *args],
        capture_output=True, text=True, timeout=120,
        env=ray_auth.driver_env(config, {**os.environ, "PYTHONPATH": str(ROOT)}),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def probe(config: ClusterConfig) -> dict[str, Any]:
    """Ray's live groups and free resources, read by a driver process of its own."""
    seen: dict[str, Any] = own_driver(config, [str(PROBE)])
    return seen


def gridtui_groups(seen: dict[str, Any]) -> list[dict[str, Any]]:
    return [g for g in seen["groups"] if g["name"].startswith("gridtui:")]


async def wait_for(
    pilot: Pilot[None], predicate: Callable[[], bool], timeout: float, what: str
) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.1)


def held(app: GridApp) -> list[tuple[str, str, str]]:
    """(id, node, state) of what the Boosts pane lists."""
    if not isinstance(app.screen, MainScreen):
        return [("", "", "a form is still open")]  # it closes on its own message
    return [(r.id, r.node, r.state) for r in app.screen.query_one(BoostsPane).rows]


async def test_boost_keys_make_and_remove_real_placement_groups(
    demo_cluster: ClusterConfig, tmp_path: Path
) -> None:
    config = demo_cluster
    app = make_app(make_backend(config, prefs=Prefs(tmp_path / "prefs.json")))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            pilot,
            lambda: (
                app.reservations.connected
                and all(n in app.ray_view.nodes for n in NAMES)
                and app.ray_view.nodes["worker-1"].cpu_available == 1
            ),
            90,
            "the controller and three alive nodes",
        )
        table = app.screen.query_one(NodesTable)
        while table.current_node != "worker-1":
            await pilot.press("down")
        worker_id = app.ray_view.nodes["worker-1"].node_id

        # Escape in the form: nothing is requested.
        await pilot.press("b")
        assert isinstance(app.screen, BoostForm)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        assert gridtui_groups(probe(config)) == []

        # `+`: one more CPU on worker-1, shown active in the pane, a real group on worker-1.
        await pilot.press("plus")
        await wait_for(pilot, lambda: [h[1:] for h in held(app)] == [("worker-1", "active")],
                       30, "the boost shown active")  # fmt: skip
        rid = held(app)[0][0]
        seen = probe(config)
        (group,) = gridtui_groups(seen)
        assert group["name"] == f"gridtui:boost:{rid}" and group["state"] == "CREATED"
        assert set(group["nodes"].values()) == {worker_id}
        assert seen["nodes"]["worker-1"]["available"].get("CPU", 0.0) == 0.0
        await wait_for(pilot, lambda: table.get_cell("worker-1", "reserved") == "1 CPU",
                       10, "the reserved column")  # fmt: skip

        # `r` on the Boosts pane: no keeps it, yes removes it.
        await pilot.press("3", "r")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert [g["name"] for g in gridtui_groups(probe(config))] == [f"gridtui:boost:{rid}"]
        await pilot.press("r", "y")
        await wait_for(pilot, lambda: held(app) == [], 30, "the pane emptied")
        seen = probe(config)
        assert gridtui_groups(seen) == []
        assert seen["nodes"]["worker-1"]["available"]["CPU"] == 1.0

        # The form: enter submits its prefilled 1 CPU; `-` releases the node's newest boost.
        # It enforces what the console's Ray view calls free, which follows Ray by a poll.
        await wait_for(pilot, lambda: app.ray_view.nodes["worker-1"].cpu_available == 1.0,
                       30, "the Ray view seeing worker-1's CPU free")  # fmt: skip
        await pilot.press("1", "b")
        assert isinstance(app.screen, BoostForm) and app.screen.node == "worker-1"
        await pilot.press("enter")
        await wait_for(pilot, lambda: [h[1:] for h in held(app)] == [("worker-1", "active")],
                       30, "the form's boost active")  # fmt: skip
        assert len(gridtui_groups(probe(config))) == 1
        await pilot.press("minus")
        await wait_for(pilot, lambda: held(app) == [], 30, "the boost released")
        assert gridtui_groups(probe(config)) == []
        # The keys' own failures; a node's staleness alert on a loaded test machine is the
        # metrics hub's business, not this test's.
        errors = [
            n.message
            for n in app._notifications
            if n.severity == "error" and " is down: no sample" not in n.message
        ]
        assert errors == []


ENGINE_PROBE = """
import json, logging, sys
import ray
from gridtui.services.control.client import ControlClient
address = sys.argv[1]
ray.init(address=address, _node_ip_address=address.rpartition(":")[0], namespace="probe",
         log_to_driver=False, logging_level=logging.ERROR, configure_logging=False)
print(json.dumps(ControlClient(owner="probe").offload_status()))
"""


def engine_status(config: ClusterConfig) -> dict[str, Any]:
    """The running engine's policy, read through a ControlClient in a driver of its own."""
    status: dict[str, Any] = own_driver(config, ["-c", ENGINE_PROBE])
    return status


async def test_tuning_keys_change_the_running_engines_threshold(
    demo_cluster: ClusterConfig, tmp_path: Path
) -> None:
    config = demo_cluster
    app = make_app(make_backend(config, prefs=Prefs(tmp_path / "prefs.json")))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.offload.policy is not None, 90, "the engine's policy")
        policy = app.offload.policy
        assert policy is not None
        before = policy.rules["cpu"].threshold
        await pilot.press("O")
        assert isinstance(app.screen, OffloadScreen)
        await wait_for(pilot, lambda: bool(app.screen.keys), 30, "the gauges")
        assert app.screen.keys[0] == ("head", "cpu")
        await pilot.press("t", "shift+left", "shift+left", "left", "enter")
        tuned = before - 11
        await wait_for(
            pilot,
            lambda: (
                app.offload.policy is not None
                and app.offload.policy.rules["cpu"].threshold == tuned
            ),
            30,
            "the tuned threshold read back",
        )
        status = engine_status(config)
        assert status["rules"]["cpu"]["threshold"] == tuned
        assert status["enabled"] is policy.enabled  # only the threshold moved
        said = [n.message for n in app._notifications]
        assert any("No cluster file" in m for m in said)  # the demo: nothing to save to

        # Put it back as it was (the cluster is shared by the module).
        await pilot.press("t", "shift+right", "shift+right", "right", "enter")
        await wait_for(
            pilot,
            lambda: (
                app.offload.policy is not None
                and app.offload.policy.rules["cpu"].threshold == before
            ),
            30,
            "the threshold restored",
        )
        assert engine_status(config)["rules"]["cpu"]["threshold"] == before
        # The view's own failures (its workers' names as titles); a node's staleness alert
        # on a loaded test machine is the metrics hub's business, not this test's.
        mine = {"Tune", "Offload", "Save", "Auto-offload"}
        failed = [
            n.message for n in app._notifications if n.severity == "error" and n.title in mine
        ]
        assert failed == []


MEMORY_PROBE = """
import json, logging, sys
import ray
from gridtui.model.actor_names import INDEX_NAME
from gridtui.actors.memory_shard import SHARD_PREFIX
address, what = sys.argv[1:3]
ray.init(address=address, _node_ip_address=address.rpartition(":")[0], namespace="probe",
         log_to_driver=False, logging_level=logging.ERROR, configure_logging=False)
named = [e["name"] for e in ray.util.list_named_actors(all_namespaces=True)]
if what == "leftovers":
    host = ray.get_actor(INDEX_NAME, namespace="gridtui")
    txns = list(ray.get(host.call.remote({"__type__": "ListTransactions"}), timeout=30)["txns"])
    held = []
    for name in named:
        if name.startswith(SHARD_PREFIX):
            shard = ray.get_actor(name, namespace="gridtui")
            held += [o["key"] for o in ray.get(shard.describe.remote(), timeout=30)["objects"]]
    print(json.dumps([txns, held]))
else:  # the index host and shards a test started go with it: the demo is left as found
    for name in named:
        if name.startswith("gridtui-memory-"):
            ray.kill(ray.get_actor(name, namespace="gridtui"), no_restart=True)
    print("[]")
"""


def memory_probe(config: ClusterConfig, what: str) -> Any:
    """Ask the memory store's actors directly, from a Ray driver of its own."""
    return own_driver(config, ["-c", MEMORY_PROBE], what)


async def test_memory_keys_store_retrieve_and_cancel_on_the_demo(
    demo_cluster: ClusterConfig, tmp_path: Path
) -> None:
    from textual.widgets import Input

    from gridtui.ui.screens.memory_forms import RetrieveForm, StoreForm
    from gridtui.ui.widgets.memory_pane import MemoryPane
    from gridtui.ui.widgets.transfer_panel import TransferPanel

    def panels() -> list[TransferPanel]:
        return list(app.screen.query(TransferPanel))

    data = os.urandom(9 * 1024**2 + 123)  # three chunks, the last one short
    (tmp_path / "blob.bin").write_bytes(data)
    app = make_app(make_backend(demo_cluster, prefs=Prefs(tmp_path / "prefs.json")))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            pilot,
            lambda: app.ready and app.memory.message in ("", "nothing stored yet"),
            90,
            "the memory feed on a connected driver",
        )
        pane = app.screen.query_one(MemoryPane)

        # s: the dialog, then the bytes through the gateway; the pane lists the object.
        await pilot.press("4", "s")
        assert isinstance(app.screen, StoreForm)
        app.screen.query_one("#memory-path", Input).value = str(tmp_path / "blob.bin")
        app.screen.query_one("#memory-node", Input).value = "worker-1"
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: [o.key for o in pane.rows] == ["blob.bin"] and not panels(),
            60,
            "stored",
        )
        assert pane.rows[0].nodes == ("worker-1",) and pane.rows[0].size == len(data)

        # r: written byte for byte.
        await pilot.press("r")
        assert isinstance(app.screen, RetrieveForm)
        app.screen.query_one("#memory-path", Input).value = str(tmp_path / "out.bin")
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: any(n.message.startswith("Retrieved") for n in app._notifications),
            60,
            "retrieved",
        )
        assert isinstance(app.screen, MainScreen) and not panels()
        assert (tmp_path / "out.bin").read_bytes() == data

        # A store from a pipe that stops half way; escape cancels it: nothing is left.
        fifo = tmp_path / "stream"
        os.mkfifo(fifo)
        release = threading.Event()

        def writer() -> None:
            with contextlib.suppress(BrokenPipeError), open(fifo, "wb") as out:
                out.write(b"p" * (6 * 1024**2))
                out.flush()
                release.wait(60)

        feeding = threading.Thread(target=writer, daemon=True)
        feeding.start()
        await pilot.press("s")
        app.screen.query_one("#memory-path", Input).value = str(fifo)
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: (
                len(panels()) == 1
                and (latest := panels()[0].latest) is not None
                and latest.done >= 4 * 1024**2
            ),
            60,
            "the first chunk stored",
        )
        shown = panels()[0]
        await pilot.press("escape")
        assert shown.cancel.is_set()
        await wait_for(pilot, lambda: not panels(), 60, "cancelled")
        release.set()
        feeding.join(10)
        assert any("Store of stream cancelled" in n.message for n in app._notifications)
        txns, held = await asyncio.to_thread(memory_probe, demo_cluster, "leftovers")
        assert txns == [] and held == ["blob.bin"]
        await wait_for(pilot, lambda: [o.key for o in pane.rows] == ["blob.bin"], 10, "listing")

        # d, y: deleted on the cluster.
        await pilot.press("d", "y")
        await wait_for(pilot, lambda: pane.rows == [], 30, "deleted")
        txns, held = await asyncio.to_thread(memory_probe, demo_cluster, "leftovers")
        assert txns == [] and held == []
        # The keys' own failures; a node's staleness alert on a loaded test machine is the
        # metrics hub's business, not this test's.
        errors = [
            n.message
            for n in app._notifications
            if n.severity == "error" and " is down: no sample" not in n.message
        ]
        assert errors == []
        await asyncio.to_thread(memory_probe, demo_cluster, "remove")
