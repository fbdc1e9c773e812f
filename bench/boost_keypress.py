"""Bench: a `+` keypress on a worker to its boost shown active in the Boosts pane, p95.

On the demo cluster (started here in a private state dir, stopped at the end), the real
console runs headless (Textual's Pilot) with its own Ray driver; worker-1 is selected.
Alternating in one run: (a) press `+` and wait until the pane lists the boost `active`
(the keypress, the worker, the controller, the poll it wakes, the pane's redraw); (b) the
bare `ControlService.boost` the key runs, awaited in the same process. Each boost is
released (untimed) and the pane seen empty again before the next try.
Run: flock /tmp/gridtui-cluster.lock .venv/bin/python bench/boost_keypress.py [--tries 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _report import emit, quick_arg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def run(tries: int) -> tuple[list[float], list[float]]:
    from textual.pilot import Pilot

    from gridtui.backend import make_backend
    from gridtui.backend.checks import check_request
    from gridtui.prefs import Prefs
    from gridtui.services.cluster import demo
    from gridtui.ui.app import make_app
    from gridtui.ui.widgets.boosts_pane import BoostsPane
    from gridtui.ui.widgets.nodes_table import NodesTable

    config = await demo.ensure_demo_running()
    app = make_app(make_backend(config, prefs=Prefs(Path(os.environ["XDG_STATE_HOME"]) / "p")))
    keys: list[float] = []
    bare: list[float] = []

    async def until(pilot: Pilot[None], ok: Callable[[], bool], timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while not ok():
            if time.monotonic() > end:
                raise SystemExit("timed out")
            await asyncio.sleep(0.002)

    async with app.run_test(size=(140, 40)) as pilot:
        await until(
            pilot,
            lambda: (
                app.reservations.connected
                and app.ray_view.nodes.get("worker-1") is not None
                and app.ray_view.nodes["worker-1"].cpu_available == 1
            ),
            120,
        )
        table = app.screen.query_one(NodesTable)
        while table.current_node != "worker-1":
            await pilot.press("down")
        pane = app.screen.query_one(BoostsPane)
        control = app.backend.control
        assert control is not None

        def shown() -> list[tuple[str, str]]:
            return [(r.node, r.state) for r in pane.rows]

        for _ in range(tries):
            t0 = time.perf_counter()
            await pilot.press("plus")
            await until(pilot, lambda: shown() == [("worker-1", "active")])
            keys.append(time.perf_counter() - t0)
            await pilot.press("minus")
            await until(pilot, lambda: shown() == [])
            await asyncio.sleep(0.2)  # Ray's free CPU back before the next try

            t0 = time.perf_counter()
            r = await control.boost("worker-1", check_request("cpu", 1, None))
            bare.append(time.perf_counter() - t0)
            await control.release(r.id)
            await until(pilot, lambda: shown() == [])
            await asyncio.sleep(0.2)
    return keys, bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tries", type=int, default=20)
    quick_arg(parser)
    args = parser.parse_args()
    if args.quick:
        args.tries = 4
    from gridtui.services.cluster import demo

    with tempfile.TemporaryDirectory() as state:
        os.environ["XDG_STATE_HOME"] = state
        os.environ["XDG_CONFIG_HOME"] = state
        os.environ.pop("GRIDTUI_CONFIG", None)
        try:
            keys, bare = asyncio.run(run(args.tries))
        finally:
            asyncio.run(demo.stop_demo())
    ms = 1000
    print(f"load average: {os.getloadavg()[0]:.2f}; {args.tries} tries")
    print(
        f"keypress to active in the pane: median {statistics.median(keys) * ms:.0f} ms, "
        f"p95 {p95(keys) * ms:.0f} ms (goal < 1000 ms)"
    )
    print(
        f"bare ControlService.boost:      median {statistics.median(bare) * ms:.0f} ms, "
        f"p95 {p95(bare) * ms:.0f} ms"
    )
    emit(
        "`+` keypress to the boost shown active in the Boosts pane, p95",
        round(p95(keys) * ms),
        unit="ms",
        baseline=round(p95(bare) * ms),
        goal="< 1 s at p95",
        met=p95(keys) < 1.0,
        note=f"{args.tries} tries; median {statistics.median(keys) * ms:.0f} ms; "
        "baseline: the bare ControlService.boost",
    )


if __name__ == "__main__":
    main()
