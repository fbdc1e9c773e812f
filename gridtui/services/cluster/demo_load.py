"""Demo load outside Ray: plain processes on a demo node's host, as the owner's own work."""

from __future__ import annotations

import contextlib
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable

from gridtui.agent.procfs import work_for
from gridtui.config import ClusterConfig
from gridtui.services.cluster.node_commands import temp_dir

# Each process burns `duty` of one core in 100 ms slices and holds its share of the memory
# (every page touched). It ends when the command that started it does, however that ends
# (Linux: the parent-death signal; it checks that its parent is still the one that
# started it, in case that one ended first), and in any case after its seconds.
LOAD_CODE = (
    "import os, sys, time\n"
    "duty, size, until = float(sys.argv[1]), int(sys.argv[2]), time.time() + float(sys.argv[3])\n"
    "if sys.platform == 'linux':\n"
    "    import ctypes, signal\n"
    "    ctypes.CDLL(None).prctl(1, signal.SIGTERM)\n"
    "    if os.getppid() != int(sys.argv[4]):\n"
    "        sys.exit(0)\n"
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


def marker(node_dir: str) -> list[str]:
    """The arguments that make a demo node's `ray-processes` scope count the process (as
    the node's own work) while a stop or a count of the node's Ray processes ignores it."""
    return work_for(node_dir)


def start(config: ClusterConfig, node: str, cpu: float, memory: int, seconds: float) -> list[int]:
    """Start ceil(cpu) processes (the last one partly busy) holding `memory` between them;
    their PIDs. Nothing asks Ray for anything."""
    where = marker(temp_dir(config.node(node), config))
    count = max(1, math.ceil(cpu))
    duties = [1.0] * (count - 1) + [cpu - (count - 1)]
    share = memory // count
    me = str(os.getpid())
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", LOAD_CODE, f"{d:g}", str(share), f"{seconds:g}", me, *where],
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
