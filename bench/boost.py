"""Bench: boost request to active, the Python API vs a bare placement group; and the CLI.

On the demo cluster (started here in a private state dir, stopped at the end), alternating
in one run: (a) `grid.boost("worker-1", "cpu", 1)` through the Python API (controller
actor, free check, named detached group, KV record) until it returns active; (b) the same
bundle as a bare `placement_group([{"CPU": 1}], STRICT_PACK, label selector)` and
`ray.get(pg.ready())`. Each is released (untimed) and its CPU seen free again before the
next try. Then the CLI (`gridtui boost request`) as a whole process, and the process start
alone (`gridtui --version`), reported separately.
Run: flock /tmp/gridtui-cluster.lock .venv/bin/python bench/boost.py [--tries 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import emit, quick_arg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def cpu_free(node: str) -> float:
    from gridtui.actors.cluster import ray_nodes
    from gridtui.actors.ray_private import available_per_node

    node_id = ray_nodes()[node].node_id
    return available_per_node().get(node_id, {}).get("CPU", 0.0)


def wait_free(node: str, amount: float) -> None:
    deadline = time.monotonic() + 10
    while cpu_free(node) < amount and time.monotonic() < deadline:
        time.sleep(0.005)


def bare(node: str) -> float:
    import ray
    from ray.util.placement_group import placement_group, remove_placement_group

    t0 = time.perf_counter()
    pg = placement_group(
        [{"CPU": 1}], strategy="STRICT_PACK", bundle_label_selector=[{"gridtui.node": node}]
    )
    ray.get(pg.ready())
    took = time.perf_counter() - t0
    remove_placement_group(pg)
    wait_free(node, 1)
    return took


def api(grid: object, node: str) -> float:
    t0 = time.perf_counter()
    boost = grid.boost(node, "cpu", 1)  # type: ignore[attr-defined]
    took = time.perf_counter() - t0
    assert boost.state == "active"
    grid.release(boost)  # type: ignore[attr-defined]
    wait_free(node, 1)
    return took


def process(argv: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, env=env, cwd=tempfile.gettempdir())
    return time.perf_counter() - t0


def ms(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return f"median {1000 * statistics.median(values):6.1f} ms  p95 {1000 * p95:6.1f} ms"


def main(tries: int) -> None:
    from gridtui import client
    from gridtui.services.cluster import demo

    state = tempfile.mkdtemp(prefix="gridtui-bench-boost-")
    os.environ["XDG_STATE_HOME"] = state
    os.environ["XDG_CONFIG_HOME"] = state
    os.environ.pop("GRIDTUI_CONFIG", None)
    try:
        config = asyncio.run(demo.ensure_demo_running())
        grid = client.connect(config)
        node = "worker-1"
        # Warm both paths: the controller's creation and Ray's first group are not the figure.
        api(grid, node), bare(node)
        a: list[float] = []
        b: list[float] = []
        for _ in range(tries):
            a.append(api(grid, node))
            b.append(bare(node))
        ratio = statistics.median(a) / statistics.median(b)
        print(f"boost request -> active, {tries} tries each, alternating, on {node}:")
        print(f"  Python API            {ms(a)}")
        print(f"  bare placement group  {ms(b)}")
        print(f"  ratio (median)        {ratio:.2f}x  (goal <= 1.3x)")
        emit(
            "boost request to active, Python API",
            round(1000 * statistics.median(a), 1),
            unit="ms",
            baseline=round(1000 * statistics.median(b), 1),
            ratio=round(ratio, 2),
            goal="<= 1.3x",
            met=ratio <= 1.3,
            note=f"median of {tries}; baseline: a bare placement group",
        )

        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        gridtui = [sys.executable, "-m", "gridtui"]
        cli, start = [], []
        for _ in range(max(3, tries // 4)):
            cli.append(process([*gridtui, "boost", "request", node, "cpu", "1"], env))
            boosts = grid.reservations()
            for held in boosts:
                grid.release(held)
            wait_free(node, 1)
            start.append(process([*gridtui, "--version"], env))
        print(f"CLI `gridtui boost request` whole process: {ms(cli)}")
        print(f"  of which process start (`gridtui --version`): {ms(start)}")
        print(
            f"  so driver connect + request: {1000 * (statistics.median(cli) - statistics.median(start)):.0f} ms (median)"
        )
        emit(
            "`gridtui boost request`, whole process",
            round(statistics.median(cli), 2),
            unit="s",
            baseline=round(statistics.median(start), 2),
            note="median; baseline: its process start alone (`gridtui --version`)",
        )
    finally:
        asyncio.run(demo.stop_demo())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--tries", type=int, default=20)
    quick_arg(parser)
    args = parser.parse_args()
    main(4 if args.quick else args.tries)
