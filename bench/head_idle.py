"""Bench: gridtui's idle footprint on the demo head, per process, in windows of 20 s.

The demo cluster (started here in a private state dir, stopped at the end) with auto-
offload off, no transfer and no reservation, after gridtui's head actors were brought up
the way a console session does: the controller (a boost made and released), the memory
index (a small object stored on the head and deleted). Then nothing happens, and the CPU
(user + system, every thread) of each live actor process on the head is read from /proc
over each window. The baseline is a bare Ray actor on the head that does nothing: what
any one idle Ray worker process costs, the floor of each of gridtui's.
Run under the Ray slot: .venv/bin/python bench/head_idle.py [--windows 3] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _report import emit, quick_arg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def head_actors(head_id: str) -> dict[str, int]:
    """{class name (numbered when there are several): pid} of the live actors on the head,
    from the GCS's actor table (the state API would need the dashboard and its token)."""
    import ray

    found: dict[str, int] = {}
    for a in ray._private.state.actors(actor_state_name="ALIVE").values():
        where = "head" if a["Address"]["NodeID"] == head_id else a["Address"]["IPAddress"]
        print(f"  alive: {a['ActorClassName']} {a['Name'] or ''} on {where}, pid {a['Pid']}")
        if a["Address"]["NodeID"] != head_id or not a["Pid"]:
            continue
        name, n = a["ActorClassName"], 2
        while name in found:
            name, n = f"{a['ActorClassName']}#{n}", n + 1
        found[name] = int(a["Pid"])
    return found


def window(pids: dict[str, int], seconds: float) -> dict[str, float]:
    """% of one core each process used over `seconds`."""
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    t0 = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - t0
    return {name: 100 * (cpu_seconds(pid) - before[name]) / elapsed for name, pid in pids.items()}


def main(windows: int, seconds: float, settle: float) -> None:
    import ray

    from gridtui import client
    from gridtui.services.cluster import demo
    from gridtui.services.memory.client import MemoryService

    state = tempfile.mkdtemp(prefix="gridtui-bench-idle-")
    os.environ["XDG_STATE_HOME"] = state
    os.environ["XDG_CONFIG_HOME"] = state
    os.environ.pop("GRIDTUI_CONFIG", None)
    try:
        config = asyncio.run(demo.ensure_demo_running())
        grid = client.connect(config)
        grid.release(grid.boost("worker-1", "cpu", 1))
        memory = MemoryService(config)
        memory.store("bench/idle", b"x" * 1024, node="head")
        memory.delete("bench/idle")
        head_id = next(
            n["NodeID"]
            for n in ray.nodes()
            if n["Alive"] and n["Labels"].get("gridtui.node") == "head"
        )
        assert not grid.reservations(), "a reservation is held: not idle"

        @ray.remote(num_cpus=0)
        class BareActor:
            def pid(self) -> int:
                return os.getpid()

        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        bare = BareActor.options(
            scheduling_strategy=NodeAffinitySchedulingStrategy(head_id, soft=False)
        ).remote()
        ray.get(bare.pid.remote())
        # What starting them set off settles, and an index that holds nothing retires
        # (MemoryHost.RETIRE_SECONDS, 60 s) with its shards.
        time.sleep(settle)
        pids = head_actors(head_id)
        print(
            f"live actors on the head: {', '.join(f'{k} (pid {v})' for k, v in sorted(pids.items()))}"
        )
        runs: list[dict[str, float]] = []
        for w in range(windows):
            runs.append(window(pids, seconds))
            print(
                f"window {w + 1}: "
                + ", ".join(f"{k} {v:.2f}%" for k, v in sorted(runs[-1].items())),
                flush=True,
            )
        mean = {name: statistics.mean(r[name] for r in runs) for name in pids}
        bare_name = next(name for name in mean if name.endswith("BareActor"))
        floor = mean.pop(bare_name)
        ours = sum(mean.values())
        print(f"\nmean of {windows} windows of {seconds:.0f} s, % of one core:")
        for name, value in sorted(mean.items()):
            print(f"  {name:<24} {value:5.2f}%")
        print(f"  {'gridtui, all':<24} {ours:5.2f}%  ({len(mean)} processes)")
        print(f"  {'a bare idle Ray actor':<24} {floor:5.2f}%")
        emit(
            "gridtui's idle footprint on the demo head, all its processes",
            f"{ours:.2f}% of a core",
            baseline=f"{floor:.2f}% of a core",
            goal="<= 1%",
            met=ours <= 1.0,
            note=(
                f"{len(mean)} processes: "
                + ", ".join(f"{k} {v:.2f}%" for k, v in sorted(mean.items()))
                + f"; mean of {windows} windows of {seconds:.0f} s; baseline: one bare idle Ray actor"
            ),
        )
    finally:
        asyncio.run(demo.stop_demo())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--windows", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--settle", type=float, default=75.0, help="idle seconds before the windows"
    )
    quick_arg(parser)
    args = parser.parse_args()
    main(1 if args.quick else args.windows, 10.0 if args.quick else args.seconds, args.settle)
