"""Down-detection bench: seconds (and intervals) until the hub marks a failed SSH node DOWN.

Baseline in the same run (`--ray`, default on): Ray's own verdict on a frozen node. The demo
cluster is started, worker-2's raylet is stopped with SIGSTOP (a silent node, as in the
hub's case), and Ray's node table is polled until it calls the node dead.
Run: .venv/bin/python bench/down_detection.py [--interval 1] [--no-ray]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "integration"))  # the in-process SSH server helper

from _report import emit, quick_arg  # noqa: E402
from sshd import SshCluster  # noqa: E402

from gridtui.config import parse_config  # noqa: E402
from gridtui.model.nodes import NodeState  # noqa: E402
from gridtui.services.metrics.hub import MetricsHub  # noqa: E402
from gridtui.transport.ssh import SshTransport  # noqa: E402


async def until(predicate: Callable[[], bool], timeout: float) -> float | None:
    start = time.monotonic()
    for _ in range(int(timeout / 0.01)):
        if predicate():
            return time.monotonic() - start
        await asyncio.sleep(0.01)
    return None


def report(what: str, took: float | None, interval: float) -> None:
    if took is None:
        print(f"{what}: NOT marked DOWN in time")
    else:
        verdict = "ok" if took <= 3 * interval else "over the goal"
        print(
            f"{what}: DOWN after {took:.2f}s = {took / interval:.2f} intervals (goal <= 3: {verdict})"
        )


async def main(interval: float) -> tuple[float | None, float | None]:
    with tempfile.TemporaryDirectory(prefix="gridtui-down-") as tmp:
        cluster = SshCluster(Path(tmp), ["127.0.0.2", "127.0.0.3", "127.0.0.4"])
        await cluster.start()
        cfg = parse_config(cluster.config_yaml(interval=interval, python=sys.executable))
        hub = MetricsHub(cfg, {n.name: SshTransport(n, cfg.ssh) for n in cfg.nodes})
        await hub.start()

        def state(name: str) -> NodeState:
            return next(n.state for n in hub.snapshot().nodes if n.name == name)

        try:
            up = await until(lambda: all(state(n.name) is NodeState.UP for n in cfg.nodes), 60)
            print(
                f"3 SSH nodes UP after {up if up is None else round(up, 2)}s; interval {interval:g}s"
            )
            # 1. The server process dies: its connections close, the stream ends at once.
            await cluster.servers[1].stop()
            closed = await until(lambda: state("n2") is NodeState.DOWN, 10 * interval)
            report("server killed (connection closed)", closed, interval)
            # 2. The node hangs silently (no FIN, no RST): only the hub's watchdog can tell.
            (agent,) = cluster.servers[2].children
            os.killpg(agent.pid, signal.SIGSTOP)
            frozen = await until(lambda: state("n3") is NodeState.DOWN, 10 * interval)
            report("node frozen (silent link)", frozen, interval)
            await cluster.servers[1].start()
            back = await until(lambda: state("n2") is NodeState.UP, 60)
            print(f"restarted server back UP after {back if back is None else round(back, 2)}s")
        finally:
            await hub.stop()
            await cluster.stop()
    return closed, frozen


async def ray_verdict() -> float | None:
    """Seconds until Ray's node table calls a SIGSTOPped demo raylet dead."""
    from gridtui.agent import nodescript
    from gridtui.services.cluster import demo
    from gridtui.services.ray.gateway import RayGateway

    with tempfile.TemporaryDirectory(prefix="gridtui-down-ray-") as tmp:
        os.environ["XDG_STATE_HOME"] = tmp
        config = demo.demo_config()
        await demo.ensure_demo_running()
        gateway = RayGateway(config)
        raylet = None
        try:
            pids, table = nodescript.find_pids([f"{config.ray.temp_dir}/worker-2"])
            raylet = next(p for p in pids if any("raylet" in w for w in table[p][3][:1]))
            await gateway.connect()
            alive = await gateway.nodes()
            assert alive["worker-2"].alive, "worker-2 is not alive before the test"
            os.kill(raylet, signal.SIGSTOP)
            start = time.monotonic()
            while time.monotonic() - start < 120:
                info = (await gateway.nodes()).get("worker-2")
                if info is None or not info.alive:
                    return time.monotonic() - start
                await asyncio.sleep(0.25)
            return None
        finally:
            if raylet is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(raylet, signal.SIGCONT)
            await gateway.close()
            await demo.stop_demo()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--no-ray", action="store_true", help="skip Ray's own baseline")
    quick_arg(parser)
    args = parser.parse_args()
    closed, ours = asyncio.run(main(args.interval))
    theirs = None
    if not args.no_ray and not args.quick:  # Ray's verdict takes a minute: not a smoke test
        theirs = asyncio.run(ray_verdict())
        if theirs is None:
            print("Ray did not call the frozen node dead within 120s")
        else:
            print(f"Ray's own verdict on a frozen raylet: dead after {theirs:.2f}s")
            if ours:
                print(f"ratio Ray / gridtui (silent node): {theirs / ours:.1f}x")
    for what, took, base in (
        ("connection closed", closed, None),
        ("silent (SIGSTOP)", ours, theirs),
    ):
        emit(
            f"node down, {what}, in sample intervals ({args.interval:g} s)",
            "never" if took is None else round(took / args.interval, 2),
            unit="intervals",
            baseline=None if base is None else f"Ray: {base:.0f} s",
            ratio=round(base / took, 1) if base and took else None,
            goal="<= 3",
            met=took is not None and took <= 3 * args.interval,
        )
