"""Idle cost: CPU of the console while nothing happens, and what a modal adds on top.

Two comparisons, each in one run, the console running for real in a 140x40 pty:

1. 100 unreachable nodes (SSH refused: nothing listens on their ports) beside 100 healthy
   simulated SSH nodes (servers answering the agent command with synthetic JSON lines,
   as bench/console_overhead.py does). Goal: unreachable under 5% of one core, measured
   after the first quick retries, over a window long enough for every node's next try.
2. The same console over the 100 healthy nodes, in alternating windows: main screen,
   help overlay open, main screen, a confirmation open, main screen. Goal: any modal at
   most 1.3x the main-screen windows either side of it.

Run: flock /tmp/gridtui-cluster.lock .venv/bin/python bench/idle_cost.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

import psutil
from _report import emit, quick_arg
from console_overhead import with_servers, write_config

INTERVAL = 1.0


def closed_port(host: str) -> int:
    """A port nothing listens on (bound for a moment, then released)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def unreachable_info(count: int, info: dict) -> dict:
    """The healthy servers' key files, but every node on a port that refuses."""
    hosts = [f"127.0.0.{2 + i % 10}" for i in range(count)]
    return {**info, "servers": [[h, closed_port(h)] for h in hosts]}


class Console:
    """The real `gridtui -c FILE` on a pty whose output is drained; keys can be typed."""

    def __init__(self, config: Path, env: dict[str, str]) -> None:
        gridtui = str(Path(sys.executable).with_name("gridtui"))
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
        self.proc = subprocess.Popen(
            [gridtui, "-c", str(config)],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self.stop = threading.Event()
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()
        self.ps = psutil.Process(self.proc.pid)

    def _drain(self) -> None:
        while not self.stop.is_set():
            if select.select([self.master], [], [], 0.1)[0]:
                try:
                    os.read(self.master, 65536)
                except OSError:
                    return

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def cpu(self, seconds: float) -> float:
        """CPU over the next `seconds`, as % of one core."""
        t0, c0 = time.monotonic(), sum(self.ps.cpu_times()[:2])
        time.sleep(seconds)
        t1, c1 = time.monotonic(), sum(self.ps.cpu_times()[:2])
        return 100.0 * (c1 - c0) / (t1 - t0)

    def close(self) -> None:
        self.stop.set()
        self.proc.kill()
        self.proc.wait()
        self.reader.join(2)
        os.close(self.master)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=8.0)
    parser.add_argument(
        "--settle",
        type=float,
        default=20.0,
        help="seconds before measuring unreachable nodes: their first, quick retries",
    )
    parser.add_argument(
        "--away-seconds",
        type=float,
        default=120.0,
        help="the unreachable window: at least one whole round of the settled retries",
    )
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--only", choices=("unreachable", "healthy"), help="run one case")
    quick_arg(parser)
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.warmup, args.settle, args.away_seconds = 5.0, 5.0, 10.0, 20.0
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="gridtui-idle-") as tmp_name:
        tmp = Path(tmp_name)
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        env.update(TERM="xterm-256color", XDG_STATE_HOME=str(tmp / "state"))

        def measure(info: dict) -> None:
            healthy = write_config(info, INTERVAL, tmp / "healthy.yaml")
            down = write_config(unreachable_info(args.nodes, info), INTERVAL, tmp / "down.yaml")
            if args.only in (None, "unreachable"):
                console = Console(down, env)
                try:
                    time.sleep(args.settle)
                    results["unreachable"] = console.cpu(args.away_seconds)
                finally:
                    console.close()
            if args.only in (None, "healthy"):
                console = Console(healthy, env)
                try:
                    time.sleep(args.warmup)
                    # Alternating windows: the console's cost creeps up while its history
                    # rings fill, so each modal is set against the main-screen windows on
                    # either side of it.
                    mains = [console.cpu(args.seconds)]
                    for key, name in (("?", "help"), ("x", "confirm")):  # x: stop the node?
                        console.type(key)
                        time.sleep(3.0)  # opening it (mount, first layout) is not idling
                        results[name] = console.cpu(args.seconds)
                        console.type("\x1b")
                        time.sleep(1.0)
                        mains.append(console.cpu(args.seconds))
                        results[f"{name} around"] = (mains[-2] + mains[-1]) / 2
                        results[f"{name} ratio"] = results[name] / results[f"{name} around"]
                    results["healthy"] = sum(mains) / len(mains)
                finally:
                    console.close()

        with_servers(args.nodes, True, INTERVAL, tmp, measure)
    n = args.nodes
    for key, label in (
        ("unreachable", f"{n} unreachable nodes, main screen"),
        ("healthy", f"{n} healthy nodes, main screen (mean of 3)"),
        ("help", "  with the help overlay open"),
        ("confirm", "  with a confirmation open"),
    ):
        if key in results:
            print(f"{label:<44} {results[key]:6.2f}% of one core")
    print(f"load average after: {os.getloadavg()[0]:.2f} (2 cores)")
    if "unreachable" in results and "healthy" in results:
        print(f"ratio unreachable / healthy: {results['unreachable'] / results['healthy']:.2f}x")
        print(f"goal: unreachable < 5% -> {'met' if results['unreachable'] < 5 else 'NOT met'}")
    if "healthy" in results:
        worst = max(results["help ratio"], results["confirm ratio"])
        print(f"ratio help overlay / main screen around it: {results['help ratio']:.2f}x")
        print(f"ratio confirmation / main screen around it: {results['confirm ratio']:.2f}x")
        print(f"goal: any modal <= 1.3x -> {'met' if worst <= 1.3 else 'NOT met'}")
    if "unreachable" in results:
        emit(
            f"console CPU, {n} unreachable nodes (refused), main screen",
            round(results["unreachable"], 2),
            unit="% of a core",
            baseline=round(results["healthy"], 2) if "healthy" in results else None,
            goal="< 5%",
            met=results["unreachable"] < 5,
            note="baseline: the same console on healthy simulated nodes",
        )
    if "healthy" in results:
        for name, label in (("help", "help overlay"), ("confirm", "confirmation")):
            emit(
                f"{label} vs the main screen around it, {n} simulated SSH nodes",
                round(results[name], 2),
                unit="% of a core",
                baseline=round(results[f"{name} around"], 2),
                ratio=round(results[f"{name} ratio"], 2),
                goal="<= 1.3x",
                met=results[f"{name} ratio"] <= 1.3,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
