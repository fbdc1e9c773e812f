"""Bench: the console's worst event-loop stall while it stores and retrieves 1 GiB.

The real app (headless, its real Backend on its own three-raylet cluster: node streams,
Ray view, reservations and memory polls) runs a ticker on its loop that sleeps 10 ms and
records how late it wakes. Three windows per console: the idle console, a 1 GiB store and
a 1 GiB retrieve, each driven through the console's own service (Backend.memory, the call
the Memory pane's keys make) under its progress panel. Two consoles, one after the other
on the same cluster: the baseline with Ray's driver on a thread of the console's process,
then the product with it in a child process (services/ray/driver_link.py).
Usage: python bench/memory_console_stall.py [--size-mib 1024] [--idle 10]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))

from _report import emit, quick_arg
from memory_cluster import LocalCluster

from gridtui.backend import make_backend
from gridtui.prefs import Prefs
from gridtui.ui.app import make_app
from gridtui.ui.screens.main import MainScreen

MiB = 1024**2
TICK = 0.01


class Ticker:
    """How late a 10 ms sleep wakes on the loop, per window; and the longest pause of
    Python's garbage collector in it (a stall of the whole process, the loop included)."""

    def __init__(self) -> None:
        self.lates: list[float] = []
        self.gc_pauses: list[float] = []
        self._gc_began = 0.0
        self._task: asyncio.Task[None] | None = None

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_began = time.perf_counter()
        else:
            self.gc_pauses.append(time.perf_counter() - self._gc_began)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + TICK
            await asyncio.sleep(TICK)
            self.lates.append(loop.time() - due)

    def start(self) -> None:
        self.lates, self.gc_pauses = [], []
        gc.callbacks.append(self._gc)
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> dict[str, float]:
        assert self._task is not None
        self._task.cancel()
        await asyncio.wait({self._task})
        gc.callbacks.remove(self._gc)
        lates = sorted(self.lates)
        return {
            "gc_ms": max(self.gc_pauses, default=0.0) * 1000,
            "ticks": len(lates),
            "worst_ms": lates[-1] * 1000,
            "p99_ms": lates[int(len(lates) * 0.99)] * 1000,
            "median_ms": statistics.median(lates) * 1000,
        }


Row = tuple[str, dict[str, float], float]


async def one_console(
    cluster: LocalCluster, isolated: bool, size: int, idle: float, work: Path
) -> list[Row]:
    """The three windows on one console, its Ray driver in-process or a child process."""
    source = work / "source.bin"
    backend = make_backend(cluster.config, prefs=Prefs(work / "prefs.json"))
    backend.isolated_driver = isolated
    app = make_app(backend)
    rows: list[Row] = []
    # As `gridtui` does before its app runs (ui/console.py): what exists by now lives as
    # long as the process, so the collector never walks it again.
    gc.collect()
    gc.freeze()
    async with app.run_test(size=(160, 48)) as pilot:
        end = time.monotonic() + 120
        while not (app.ready and app.memory.message in ("", "nothing stored yet")):
            assert time.monotonic() < end, "the memory feed never came"
            await pilot.pause(0.2)
        await pilot.pause(3)  # the figures flowing
        memory = app.backend.memory
        assert memory is not None
        ticker = Ticker()
        main = app.screen
        assert isinstance(main, MainScreen)

        ticker.start()
        await asyncio.sleep(idle)
        rows.append(("idle console", await ticker.stop(), idle))

        shown = await main.memory.open_panel("bench store", size)  # as the `s` key does
        ticker.start()
        await asyncio.sleep(idle)
        rows.append(("idle, progress panel up", await ticker.stop(), idle))
        ticker.start()
        t0 = time.monotonic()
        obj = await memory.store("bench/blob", source, progress=shown.show)
        took = time.monotonic() - t0
        rows.append((f"store {size // MiB} MiB", await ticker.stop(), took))
        main.memory.close_panel(shown)
        await asyncio.sleep(0.5)
        assert obj is not None and obj.size == size

        shown = await main.memory.open_panel("bench retrieve", size)
        ticker.start()
        t0 = time.monotonic()
        await memory.retrieve("bench/blob", work / "out.bin", progress=shown.show)
        took = time.monotonic() - t0
        rows.append((f"retrieve {size // MiB} MiB", await ticker.stop(), took))
        main.memory.close_panel(shown)
        assert (work / "out.bin").stat().st_size == size
        (work / "out.bin").unlink()
        await memory.delete("bench/blob")
    return rows


async def run(size: int, idle: float, work: Path) -> None:
    store = int(size * 1.6)  # capacity 0.75 of it: the object plus room to spare
    cluster = LocalCluster(work, store, capacity=0.75)
    with (work / "source.bin").open("wb") as f:
        for _ in range(size // MiB):
            f.write(os.urandom(MiB))
    await cluster.start()
    if os.environ.get("STALL_NICE_CLUSTER"):  # diagnosis: the cluster below the console
        from gridtui.agent import nodescript

        for pid in nodescript.find_pids([str(cluster.config.ray.temp_dir)])[0]:
            os.setpriority(os.PRIO_PROCESS, pid, 10)
    try:
        # The baseline first: its in-process driver stays in this process, which the
        # child-process driver after it never touches.
        baseline = await one_console(cluster, False, size, idle, work)
        product = await one_console(cluster, True, size, idle, work)
        print(f"\n{size // MiB} MiB, load average {os.getloadavg()[0]:.1f}")
        print("| window | driver | seconds | ticks | worst stall | p99 | median | longest gc |")
        print("|---|---|---|---|---|---|---|---|")
        for driver, rows in (("in-process", baseline), ("child process", product)):
            for name, r, seconds in rows:
                rate = "" if name.startswith("idle") else f" ({size / MiB / seconds:.0f} MiB/s)"
                print(
                    f"| {name} | {driver} | {seconds:.1f}{rate} | {r['ticks']:.0f} "
                    f"| {r['worst_ms']:.1f} ms | {r['p99_ms']:.1f} ms | {r['median_ms']:.2f} ms "
                    f"| {r['gc_ms']:.1f} ms |"
                )
        for (name, old, _), (_, new, _) in zip(baseline, product, strict=True):
            ratio = old["worst_ms"] / max(new["worst_ms"], 0.001)
            print(f"{name}: worst stall in-process / child process = {ratio:.1f}x")
            emit(
                f"console's worst stall, {name}",
                round(new["worst_ms"], 1),
                unit="ms",
                baseline=round(old["worst_ms"], 1),
                goal="< 100 ms",
                met=new["worst_ms"] < 100,
                note=f"p99 {new['p99_ms']:.1f} ms; baseline: Ray's driver in the console's process",
            )
    finally:
        await cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--idle", type=float, default=10.0)
    quick_arg(parser)
    args = parser.parse_args()
    if args.quick:
        args.size_mib, args.idle = 256, 3.0
    os.environ.setdefault("XDG_STATE_HOME", tempfile.mkdtemp(prefix="gridtui-bench-state-"))
    with tempfile.TemporaryDirectory(prefix="gridtui-stall-") as tmp:
        try:
            asyncio.run(run(args.size_mib * MiB, args.idle, Path(tmp)))
        except BaseException:
            # Ray's exception hook would report to a GCS that is gone by now, and hang.
            traceback.print_exc()
            sys.stdout.flush()
            os._exit(1)


if __name__ == "__main__":
    main()
