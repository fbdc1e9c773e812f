"""Demo load outside Ray: plain processes on a demo node's host, as the owner's own work."""

from __future__ import annotations

import contextlib
import math
import subprocess
import sys
import time
from collections.abc import Callable

from gridtui.config import ClusterConfig

# Each process burns `duty` of one core in 100 ms slices, holds its share of the memory
# (every page touched) and ends by itself after its seconds, should its parent be killed.
LOAD_CODE = (
    "import sys, time\n"
    "duty, size, until = float(sys.argv[1]), int(sys.argv[2]), time.time() + float(sys.argv[3])\n"
    "hold = bytearray(size)\n"
    "for i in range(0, size, 4096):\n"
    "    hold[i] = 1\n"
    "while time.time() < until:\n"
    "    start = time.time()\n"
    "    while time.time() - start < 0.1 * duty:\n"
    "        pass\n"
    "    time.sleep(max(0.0, 0.1 * (1 - duty)))\n"
)
GRACE = 2.0


def marker(host: str) -> str:
    """The argument that makes a demo node's `ray-processes` scope count the process: the
    demo's co-located nodes are told apart by the address on their command lines."""
    return f"--node-ip-address={host}"


def start(config: ClusterConfig, node: str, cpu: float, memory: int, seconds: float) -> list[int]:
    """Start ceil(cpu) processes (the last one partly busy) holding `memory` between them;
    their PIDs. Nothing asks Ray for anything."""
    host = config.node(node).host
    count = max(1, math.ceil(cpu))
    duties = [1.0] * (count - 1) + [cpu - (count - 1)]
    share = memory // count
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", LOAD_CODE, f"{d:g}", str(share), f"{seconds:g}", marker(host)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for d in duties
    ]
    _started.extend(procs)
    return [p.pid for p in procs]


_started: list[subprocess.Popen[bytes]] = []


def stop(pids: list[int]) -> None:
    """SIGTERM, then SIGKILL after a grace period: by PID, only the processes started here."""
    mine = [p for p in _started if p.pid in pids]
    for p in mine:
        with contextlib.suppress(ProcessLookupError):
            p.terminate()
    deadline = time.monotonic() + GRACE
    for p in mine:
        try:
            p.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        _started.remove(p)


def run(
    config: ClusterConfig,
    node: str,
    cpu: float,
    memory: int,
    seconds: float,
    sleep: Callable[[float], None] = time.sleep,
) -> list[int]:
    """Load for `seconds`, then stop it; Ctrl-C (KeyboardInterrupt) stops it too, and is
    raised again once it has. The PIDs it ran."""
    pids = start(config, node, cpu, memory, seconds)
    try:
        sleep(seconds)
    finally:
        stop(pids)
    return pids
