"""Bench: time from no config to three alive demo nodes, and the demo cluster's memory.

Two measurements in one run: the back-end alone (`ensure_demo_running`, the baseline), then
the real console, `gridtui` with no config in a tmux pty, timed from process start to a
frame whose header reads `3/3 up` and `connected` with all three Ray rows alive.
Run: .venv/bin/python bench/demo_start.py
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _report import emit, quick_arg

from gridtui.agent import nodescript
from gridtui.services.cluster import demo

NODES = ("head", "worker-1", "worker-2")


async def backend_alone() -> tuple[float, int, int]:
    """Start the demo with the back-end only; print its memory; stop it. Returns seconds,
    and the demo's processes and their RSS."""
    config = demo.demo_config()
    markers = [f"{config.ray.temp_dir}/{n.name}" for n in config.nodes]
    t0 = time.perf_counter()
    await demo.ensure_demo_running()
    up = time.perf_counter() - t0
    try:
        t1 = time.perf_counter()
        status = await demo.demo_status()
        attach = time.perf_counter() - t1
        assert status.healthy, status.table()
        await asyncio.sleep(3)  # let prestarted workers settle
        pids, table = nodescript.find_pids(markers)
        rss = sum(table[p][2] for p in pids)
        print(f"no config -> 3 alive demo nodes (back-end): {up:.2f}s (status check {attach:.2f}s)")
        print(
            f"demo cluster: {len(pids)} processes, RSS {rss / 2**30:.2f} GiB "
            f"(goal < 1.2 GiB: ratio {rss / (1.2 * 2**30):.2f})"
        )
        for node, marker in zip(config.nodes, markers, strict=True):
            node_rss = sum(table[p][2] for p in nodescript.find_pids([marker])[0])
            print(f"  {node.name:<9} {node_rss / 2**20:7.0f} MiB")
    finally:
        await demo.stop_demo()
    return up, len(pids), rss


def console_to_three_alive(state: str, timeout: float = 120.0) -> float:
    """Start the console from nothing in tmux; seconds until a frame shows 3 alive nodes."""
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is needed for the console measurement")
    tmux = ["tmux", "-L", f"gridtui-bench-{uuid.uuid4().hex[:6]}", "-f", "/dev/null"]
    gridtui = shlex.quote(str(Path(sys.executable).with_name("gridtui")))
    command = f"env -u COLUMNS -u LINES XDG_STATE_HOME={shlex.quote(state)} {gridtui}"
    t0 = time.perf_counter()
    subprocess.run([*tmux, "new-session", "-d", "-x", "140", "-y", "40", command], check=True)
    screen = ""
    try:
        while time.perf_counter() - t0 < timeout:
            screen = subprocess.run(
                [*tmux, "capture-pane", "-p"], capture_output=True, text=True
            ).stdout
            # The Nodes table's rows: a node's name also heads the Sparklines pane's title.
            rows = [
                ln for ln in screen.splitlines() if any(ln.startswith(f"│ {n} ") for n in NODES)
            ]
            if (
                "3/3 up" in screen
                and "connected" in screen
                and len(rows) >= 3
                and all(" alive " in r for r in rows[:3])
            ):
                return time.perf_counter() - t0
            time.sleep(0.1)
        raise SystemExit(f"no frame with three alive nodes in {timeout:g}s:\n{screen}")
    finally:
        subprocess.run([*tmux, "send-keys", "q"], check=False)
        time.sleep(1)
        subprocess.run([*tmux, "kill-server"], check=False, stderr=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    quick_arg(parser)  # one start each already: the same run
    parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_STATE_HOME"] = tmp
        up, count, rss = asyncio.run(backend_alone())
        try:
            console = console_to_three_alive(tmp)
        finally:
            asyncio.run(demo.stop_demo())  # the console leaves the demo running, by design
        print(
            f"gridtui (no config) -> frame with 3 alive demo nodes: {console:.2f}s "
            f"(back-end alone {up:.2f}s; ratio {console / up:.2f}x)"
        )
    emit(
        "no config to three alive demo nodes, console frame",
        round(console, 2),
        unit="s",
        baseline=round(up, 2),
        ratio=round(console / up, 2),
        note="baseline: the back-end alone",
    )
    emit(
        "demo cluster memory (RSS)",
        round(rss / 2**30, 2),
        unit="GiB",
        goal="< 1.2 GiB",
        met=rss < 1.2 * 2**30,
        note=f"{count} processes",
    )


if __name__ == "__main__":
    main()
