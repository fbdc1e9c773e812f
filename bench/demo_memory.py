"""Bench: the demo cluster's memory before and after `ray[default]` and the job module.

Each side starts the demo in a state dir of its own (so a demo someone else runs is never
touched), waits for it to settle, sums the RSS (and PSS, which counts a page shared by
forked processes once) of every process under the demo's temp dirs, by kind, and stops it.
The baseline runs with another interpreter: a venv with plain `ray` (main before this
change), where the demo starts with `--include-dashboard=false`. `--variant` adds this
venv with the dashboard off, to tell what the per-node agents cost from what the head's
dashboard costs.
Run under the Ray slot: .venv/bin/python bench/demo_memory.py --baseline-python /path/.venv/bin/python
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

GOAL = 1.2 * 2**30
SETTLE = 8.0


def _pss(pid: int) -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    return 0


def _kind(argv: list[str]) -> str:
    text = " ".join(argv)
    for marker, kind in (
        ("gcs_server", "gcs_server"),
        ("raylet", "raylet"),
        ("dashboard/agent.py", "dashboard agent"),
        ("runtime_env/agent", "runtime env agent"),
        ("dashboard.py", "dashboard (head)"),
        ("log_monitor", "log monitor"),
        ("monitor.py", "autoscaler monitor"),
        ("default_worker", "idle workers"),
        ("ray::", "workers"),
    ):
        if marker in text:
            return kind
    if "multiprocessing" in text or "forkserver" in text:
        return "dashboard modules"
    return (os.path.basename(argv[0]) if argv else "?") + " (other)"


async def measure(dashboard_off: bool) -> dict[str, object]:
    """Start the demo, settle, sum its processes' memory, stop it (in this process)."""
    from gridtui.agent import nodescript
    from gridtui.services import demo

    if dashboard_off:
        plain = demo.demo_config

        def off():  # type: ignore[no-untyped-def]
            config = plain()
            return config.model_copy(
                update={"ray": config.ray.model_copy(update={"include_dashboard": False})}
            )

        demo.demo_config = off  # type: ignore[assignment]
    config = demo.demo_config()
    markers = [f"{config.ray.temp_dir}/{n.name}" for n in config.nodes]
    await demo.ensure_demo_running()
    try:
        await asyncio.sleep(SETTLE)
        pids, table = nodescript.find_pids(markers)
        kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # type: ignore[arg-type]
        for pid in pids:
            row = kinds[_kind(table[pid][3])]
            row[0] += 1
            row[1] += table[pid][2]
            row[2] += _pss(pid)
        return {
            "processes": len(pids),
            "rss": sum(r[1] for r in kinds.values()),
            "pss": sum(r[2] for r in kinds.values()),
            "kinds": {k: v for k, v in sorted(kinds.items())},
        }
    finally:
        await demo.stop_demo()


def run_side(python: str, dashboard_off: bool) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="gtdm-") as state:
        env = {**os.environ, "XDG_STATE_HOME": state}
        argv = [python, __file__, "--measure"] + (["--dashboard-off"] if dashboard_off else [])
        out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
        if out.returncode != 0:
            raise SystemExit(f"{python}: {out.stderr.strip()[-2000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])


def show(name: str, side: dict[str, object]) -> None:
    rss, pss = int(side["rss"]), int(side["pss"])  # type: ignore[call-overload]
    print(
        f"{name}: {side['processes']} processes, RSS {rss / 2**30:.2f} GiB, "
        f"PSS {pss / 2**30:.2f} GiB (goal < 1.2 GiB: RSS/goal {rss / GOAL:.2f})"
    )
    for kind, (n, k_rss, k_pss) in side["kinds"].items():  # type: ignore[attr-defined]
        print(f"    {kind:<20} {n:>3}  RSS {k_rss / 2**20:6.0f} MiB  PSS {k_pss / 2**20:6.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline-python", help="interpreter of a venv with plain ray")
    parser.add_argument("--variant", action="store_true", help="also: this venv, dashboard off")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dashboard-off", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(asyncio.run(measure(args.dashboard_off))))
        return
    t0 = time.perf_counter()
    sides = []
    if args.baseline_python:
        sides.append(("baseline (plain ray, no dashboard)", run_side(args.baseline_python, True)))
    if args.variant:
        sides.append(("ray[default], dashboard off", run_side(sys.executable, True)))
    product = run_side(sys.executable, False)
    sides.append(("gridtui (ray[default], job module on)", product))
    for name, side in sides:
        show(name, side)
    if args.baseline_python:
        base = int(sides[0][1]["rss"])  # type: ignore[call-overload]
        print(
            f"product/baseline RSS: {int(product['rss']) / base:.2f} "  # type: ignore[call-overload]
            f"(+{(int(product['rss']) - base) / 2**20:.0f} MiB)"  # type: ignore[call-overload]
        )
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
