"""Bench: auto-offload reaction time and the engine's idle cost, on the demo cluster.

(a) Reaction: a busy loop the head's `ray-processes` scope counts starts; the engine's
    fence event says when the value crossed the threshold (its sample time minus how long
    it had held); the fence is seen CREATED in Ray's table by polling every 20 ms. Reaction
    = fence active - crossing, against the goal sustain + one interval + 0.5 s. Repeated.
(b) Switch: the same load on, auto-offload in dry-run until its dry-run fence event,
    then switched to live (issue 14: the switch once never fenced). Switch-to-fence =
    fence CREATED in Ray's table - the moment the switch was asked, against the goal
    sustain + one interval + 0.5 s (the switch starts a fresh sustain window). Repeated.
(c) Idle cost: CPU seconds of the controller and the head's sampler over 20 s, enabled
    and watching the head with no pressure, as a share of one core; beside it the
    controller alone over 20 s with auto-offload off, and the difference (the engine's own
    share). Goal < 1%.
Run: flock /tmp/gridtui-cluster.lock .venv/bin/python bench/offload_reaction.py [--tries 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from _report import emit, quick_arg  # noqa: E402
from boost_cluster import BoostCluster  # noqa: E402

from gridtui.model.offload import OffloadPolicy, Rule, fence_name  # noqa: E402
from gridtui.services.cluster.demo_load import marker  # noqa: E402
from gridtui.services.cluster.node_commands import temp_dir  # noqa: E402

SUSTAIN = 2.0
INTERVAL = 1.0  # the controller's tick
IDLE_SECONDS = 20.0
QUICK_IDLE_SECONDS = 6.0
FENCE = fence_name("head")


def fence_state(cl: BoostCluster) -> str:
    return str(cl.groups().get(FENCE, {}).get("state", ""))


def dry_run_event(cl: BoostCluster, since: int) -> bool:
    events = cl.run(lambda: cl.control.offload_events(since))["events"]
    return any(e["result"] == "dry-run" for e in events)


def wait(check: Any, seconds: float = 60.0, step: float = 0.02) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        time.sleep(step)


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tries", type=int, default=3)
    quick_arg(parser)
    args = parser.parse_args()
    idle = QUICK_IDLE_SECONDS if args.quick else IDLE_SECONDS
    with tempfile.TemporaryDirectory(prefix="gridtui-offload-bench-") as tmp:
        cl = BoostCluster(Path(tmp))
        try:
            run(cl, 1 if args.quick else args.tries, idle)
        finally:
            cl.close()


def share(pids: set[int], seconds: float = IDLE_SECONDS) -> float:
    """CPU of `pids` over `seconds`, in percent of one core."""
    before, start = sum(cpu_seconds(p) for p in pids), time.monotonic()
    time.sleep(seconds)
    used = sum(cpu_seconds(p) for p in pids) - before
    return 100 * used / (time.monotonic() - start)


def run(cl: BoostCluster, tries: int, idle_seconds: float) -> None:
    scopes = {n.name: n.sample_scope for n in cl.config.nodes}
    rule = Rule(40, sustain=SUSTAIN, hysteresis=25, cooldown=0)
    policy = OffloadPolicy(enabled=True, rules={"cpu": rule})
    info = cl.run(cl.control.info)
    time.sleep(3)
    off = share({int(info.pid)}, idle_seconds)  # the controller alone, auto-offload off
    cl.run(lambda: cl.control.offload_set(policy, scopes))
    wait(lambda: "head" in cl.run(cl.control.offload_status)["live"], step=0.3)
    time.sleep(3)
    live = cl.run(cl.control.offload_status)["live"]["head"]
    # The sampler is the controller itself when it runs on the watched node.
    pids = {int(info.pid), int(live["pid"])}
    idle = share(pids, idle_seconds)
    # What the head's scope counts: a process naming the head's own Ray temp dir.
    busy = [sys.executable, "-c", "while True: pass", marker(temp_dir(cl.config.head, cl.config))]
    reactions = []
    for _ in range(tries):
        seen = {e["seq"] for e in cl.run(cl.control.offload_events)["events"]}
        load = subprocess.Popen(busy)
        try:
            wait(lambda: fence_state(cl) == "CREATED")
            active = time.time()
        finally:
            load.kill()
            load.wait()
        events = [e for e in cl.run(cl.control.offload_events)["events"] if e["seq"] not in seen]
        fence = next(e for e in events if e["action"] == "fence")
        crossing = float(fence["time"]) - float(fence["trigger"]["held"])
        reactions.append(active - crossing)
        wait(lambda: fence_state(cl) == "", step=0.2)
    goal = SUSTAIN + INTERVAL + 0.5
    print(
        f"reaction, crossing to fence active (sustain {SUSTAIN:g}s, interval {INTERVAL:g}s): "
        f"median {statistics.median(reactions):.2f} s, max {max(reactions):.2f} s "
        f"over {tries} (goal <= {goal:g} s)"
    )
    switches = []
    dry = OffloadPolicy(enabled=True, rules={"cpu": rule}, dry_run=True)
    load = subprocess.Popen(busy)
    try:
        for _ in range(tries):
            seen = cl.run(cl.control.offload_events)["seq"]
            cl.run(lambda: cl.control.offload_set(dry, scopes))
            wait(lambda since=seen: dry_run_event(cl, since), step=0.2)
            asked = time.time()
            cl.run(lambda: cl.control.offload_set(policy, scopes))
            wait(lambda: fence_state(cl) == "CREATED")
            switches.append(time.time() - asked)
    finally:
        load.kill()
        load.wait()
    cl.run(lambda: cl.control.offload_set(OffloadPolicy(), scopes))
    wait(lambda: fence_state(cl) == "", step=0.2)
    print(
        f"switch, dry-run to live with the load on, to fence active: median "
        f"{statistics.median(switches):.2f} s, min {min(switches):.2f} s, max "
        f"{max(switches):.2f} s over {tries} (goal <= {goal:g} s)"
    )
    print(
        f"engine idle cost (controller + head sampler, {len(pids)} processes, enabled, no "
        f"pressure): {idle:.2f}% of a core; the controller with auto-offload off: "
        f"{off:.2f}%; the engine's own share: {idle - off:.2f}% (goal < 1%)"
    )
    for what, values in (
        ("reaction, threshold crossing to fence active", reactions),
        ("switch, dry-run to live with the load on, to fence active", switches),
    ):
        emit(
            f"offload {what} (sustain {SUSTAIN:g} s, tick {INTERVAL:g} s)",
            round(statistics.median(values), 2),
            unit="s",
            goal=f"<= {goal:g} s",
            met=statistics.median(values) <= goal,
            note=f"median of {tries}, max {max(values):.2f} s",
        )
    emit(
        "offload engine's own idle share (enabled, watching the head, no pressure)",
        round(idle - off, 2),
        unit="% of a core",
        goal="< 1%",
        met=idle - off < 1,
        note=f"controller + head sampler {idle:.2f}%, controller with auto-offload off "
        f"{off:.2f}%, over {idle_seconds:g} s",
    )
    cl.run(lambda: cl.control.offload_set(OffloadPolicy(), scopes))


if __name__ == "__main__":
    main()
