"""Bench: what the demo cluster takes from this machine, with Ray's dashboard off and on.

Each side starts the demo in a state dir of its own (so a demo someone else runs is never
touched), waits for it to settle, and stops it. Three figures per side:
- the sum of RSS of every process under the demo's temp dirs (counts a page shared by
  forked processes once per process: Ray's dashboard forks ~9 module processes from one
  preloaded server, so this overstates);
- the sum of PSS (each page counted once, split between its sharers);
- the drop in the machine's MemAvailable from before the start to the settled demo, and
  what came back after its stop: what the demo really takes from this machine (the
  bench process's own growth is left out). Other work on the machine moves this figure;
  the two halves agreeing is the check.
The 1.2 GiB goal is judged on PSS and on the MemAvailable drop, not on summed RSS.
`--baseline-python` adds a side run by another venv's interpreter (plain `ray`, main
before `ray[default]`), where the demo starts without the dashboard.
Run under the Ray slot: .venv/bin/python bench/demo_memory.py [--baseline-python P]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from _report import emit, quick_arg

GOAL = 1.2 * 2**30
SETTLE = 8.0
GiB = 2**30


def _pss(pid: int) -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    return 0


def _meminfo(field: str, path: str = "/proc/meminfo") -> int:
    for line in Path(path).read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def _available() -> int:
    """MemAvailable, the median of 5 reads 0.2 s apart (other processes come and go)."""
    reads = []
    for _ in range(5):
        reads.append(_meminfo("MemAvailable"))
        time.sleep(0.2)
    return int(statistics.median(reads))


def _own_rss() -> int:
    return _meminfo("VmRSS", "/proc/self/status")


def _kind(argv: list[str]) -> str:
    text = " ".join(argv)
    # Ray renames its agents and the dashboard's module processes (setproctitle).
    for marker, kind in (
        ("gcs_server", "gcs_server"),
        ("raylet", "raylet"),
        ("DashboardAgent", "dashboard agent"),
        ("RuntimeEnvAgent", "runtime env agent"),
        ("ray-dashboard-", "dashboard modules"),
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


async def measure() -> dict[str, object]:
    """Start the demo, settle, read its processes and the machine, stop it, read again."""
    from gridtui.agent import nodescript
    from gridtui.services.cluster import demo

    config = demo.demo_config()
    markers = [f"{config.ray.temp_dir}/{n.name}" for n in config.nodes]
    own, before = _own_rss(), _available()
    await demo.ensure_demo_running()
    try:
        await asyncio.sleep(SETTLE)
        pids, table = nodescript.find_pids(markers)
        kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for pid in pids:
            row = kinds[_kind(table[pid][3])]
            row[0] += 1
            row[1] += table[pid][2]
            row[2] += _pss(pid)
        during = _available()
        grown = _own_rss() - own
    finally:
        await demo.stop_demo()
    await asyncio.sleep(3.0)
    after = _available()
    return {
        "dashboard": config.ray.include_dashboard,
        "processes": len(pids),
        "rss": sum(r[1] for r in kinds.values()),
        "pss": sum(r[2] for r in kinds.values()),
        "taken": before - during - grown,
        "returned": after - during,
        "kinds": dict(sorted(kinds.items())),
    }


def run_side(python: str, dashboard: bool) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="gtdm-") as state:
        env = {**os.environ, "XDG_STATE_HOME": state}
        env["GRIDTUI_DEMO_DASHBOARD"] = "on" if dashboard else "off"
        argv = [python, __file__, "--measure"]
        out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
        if out.returncode != 0:
            raise SystemExit(f"{python}: {out.stderr.strip()[-2000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])


def _gib(n: object) -> str:
    return f"{int(n) / GiB:5.2f}"  # type: ignore[call-overload]


def show(sides: list[tuple[str, dict[str, object]]]) -> None:
    print(f"{'':<38} {'procs':>5} {'RSS sum':>8} {'PSS sum':>8} {'taken':>6} {'returned':>8}  GiB")
    for name, s in sides:
        print(
            f"{name:<38} {s['processes']:>5} {_gib(s['rss']):>8} {_gib(s['pss']):>8} "
            f"{_gib(s['taken']):>6} {_gib(s['returned']):>8}"
        )
    print("taken: MemAvailable before the start less after it settled; returned: after the stop")
    for name, s in sides:
        print(f"\n{name}, by kind of process:")
        for kind, (n, k_rss, k_pss) in s["kinds"].items():  # type: ignore[attr-defined]
            print(
                f"    {kind:<20} {n:>3}  RSS {k_rss / 2**20:6.0f} MiB  PSS {k_pss / 2**20:6.0f} MiB"
            )
    name, product = sides[-1]
    pss, taken = int(product["pss"]), int(product["taken"])  # type: ignore[call-overload]
    verdict = "met" if max(pss, taken) < GOAL else "NOT met"
    plain = sides[-2][1]
    emit(
        "demo memory with Ray's dashboard, PSS of its processes",
        round(pss / GiB, 2),
        unit="GiB",
        baseline=round(int(plain["pss"]) / GiB, 2),  # type: ignore[call-overload]
        goal="< 1.2 GiB",
        met=pss < GOAL,
        note="baseline: the same demo with the dashboard off",
    )
    emit(
        "demo memory with Ray's dashboard, MemAvailable drop",
        round(taken / GiB, 2),
        unit="GiB",
        goal="< 1.2 GiB",
        met=taken < GOAL,
    )
    print(
        f"\ngoal < 1.2 GiB, judged on PSS and on the MemAvailable drop ({name}): "
        f"PSS {pss / GiB:.2f}, taken {taken / GiB:.2f}: {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline-python", help="interpreter of a venv with plain ray")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    quick_arg(parser)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(asyncio.run(measure())))
        return
    t0 = time.perf_counter()
    sides = []
    if args.baseline_python:
        sides.append(("plain ray, dashboard off (baseline)", run_side(args.baseline_python, False)))
    sides.append(("ray[default], dashboard off", run_side(sys.executable, False)))
    sides.append(("ray[default], dashboard on (gridtui)", run_side(sys.executable, True)))
    show(sides)
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
