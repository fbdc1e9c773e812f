"""Bench: `gridtui boost status` and `gridtui memory list-objects` beside `ray status`.

On the demo cluster (started here in a private state dir, stopped at the end), each
command as a whole process, from exec to exit, the three taking turns: `ray status`
against the demo's GCS with its token (what a Ray user types), then gridtui's two
read-only commands. The goal is parity: no slower than `ray status`.
Run under the Ray slot: .venv/bin/python bench/cli_parity.py [--runs 7]
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


def timed(argv: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, env=env, cwd=tempfile.gettempdir())
    took = time.perf_counter() - t0
    assert done.returncode == 0, (argv, done.stdout[-500:], done.stderr[-500:])
    return took


def main(runs: int) -> None:
    from gridtui.services.cluster import demo
    from gridtui.services.ray import auth as ray_auth

    state = tempfile.mkdtemp(prefix="gridtui-bench-cli-")
    os.environ["XDG_STATE_HOME"] = state
    os.environ["XDG_CONFIG_HOME"] = state
    os.environ.pop("GRIDTUI_CONFIG", None)
    try:
        config = asyncio.run(demo.ensure_demo_running())
        env = dict(os.environ)
        ray_auth.apply(config, env)  # `ray status` sends the demo's token, as gridtui does
        bindir = Path(sys.executable).parent
        commands = {
            "ray status": [
                str(bindir / "ray"),
                "status",
                "--address",
                f"{config.head.host}:{config.ray.port}",
            ],
            "gridtui boost status": [str(bindir / "gridtui"), "boost", "status"],
            "gridtui memory list-objects": [str(bindir / "gridtui"), "memory", "list-objects"],
        }
        for argv in commands.values():  # warm: the controller and index exist, caches are hot
            timed(argv, env)
        took: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, argv in commands.items():
                took[name].append(timed(argv, env))
        base = statistics.median(took["ray status"])
        print(f"whole process, exec to exit, median of {runs} (taking turns):")
        for name, values in took.items():
            print(
                f"  {name:<28} {statistics.median(values):5.2f} s   (runs: {', '.join(f'{v:.2f}' for v in values)})"
            )
        for name in ("gridtui boost status", "gridtui memory list-objects"):
            ours = statistics.median(took[name])
            emit(
                f"`{name}`, whole process",
                round(ours, 2),
                unit="s",
                baseline=round(base, 2),
                ratio=round(ours / base, 2),
                goal="<= 1.0x",
                met=ours <= base,
                note=f"median of {runs}, taking turns; baseline: `ray status` on the same cluster",
            )
    finally:
        asyncio.run(demo.stop_demo())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    quick_arg(parser)
    args = parser.parse_args()
    main(2 if args.quick else args.runs)
