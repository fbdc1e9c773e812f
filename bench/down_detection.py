"""Down-detection bench: seconds (and intervals) until the hub marks a killed SSH node DOWN."""

from __future__ import annotations

import argparse
import asyncio
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

from sshd import SshCluster  # noqa: E402

from gridtui.config import parse_config  # noqa: E402
from gridtui.metrics import MetricsHub  # noqa: E402
from gridtui.model import NodeState  # noqa: E402
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


async def main(interval: float) -> None:
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
            report(
                "server killed (connection closed)",
                await until(lambda: state("n2") is NodeState.DOWN, 10 * interval),
                interval,
            )
            # 2. The node hangs silently (no FIN, no RST): only the hub's watchdog can tell.
            (agent,) = cluster.servers[2].children
            os.killpg(agent.pid, signal.SIGSTOP)
            report(
                "node frozen (silent link)",
                await until(lambda: state("n3") is NodeState.DOWN, 10 * interval),
                interval,
            )
            await cluster.servers[1].start()
            back = await until(lambda: state("n2") is NodeState.UP, 60)
            print(f"restarted server back UP after {back if back is None else round(back, 2)}s")
        finally:
            await hub.stop()
            await cluster.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--interval", type=float, default=1.0)
    asyncio.run(main(parser.parse_args().interval))
