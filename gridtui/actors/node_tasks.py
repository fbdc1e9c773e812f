"""The titles of one Ray node's worker processes, read from /proc: the tasks running there."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from gridtui.model.still_running import TITLE

MIN_SPAN = 0.5
"""Seconds a CPU figure spans at least: /proc counts CPU in clock ticks (10 ms), so two
looks a moment apart would read 0%."""


class WorkerTitles:
    """Ray sets a worker's process title to `ray::<task name>` while it runs a task
    (`ray::IDLE` between tasks, `ray::Class[.method]` in an actor's worker), so the tasks
    on a node are its processes' command lines: a few small /proc reads of the node's own
    process tree, where Ray's task table is a GCS read of up to 100,000 events. A task
    that started and ended between two reads is not seen."""

    def __init__(
        self,
        pids: Callable[[], Iterable[int]],
        root: str = "/proc",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pids = pids
        self._root = root
        self._clock = clock
        self._tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self._prev: dict[int, tuple[float, float]] = {}
        self._said: dict[int, float] = {}

    def read(self) -> list[dict[str, Any]]:
        """[{pid, argv, cpu}] for each process of the tree titled `ray::...`; `cpu` is
        its CPU % over at least MIN_SPAN before (None the first time it is seen)."""
        now = self._clock()
        out, seen, said = [], {}, {}
        for pid in sorted(self._pids()):
            argv = self._argv(pid)
            if not argv or not argv[0].startswith(TITLE):
                continue
            used = self._cpu_seconds(pid)
            if used is None:
                continue
            before = self._prev.get(pid)
            cpu = self._said.get(pid)
            if before is not None and now - before[0] < MIN_SPAN:
                seen[pid] = before  # too close to the last look: its figure stands
            else:
                seen[pid] = (now, used)
                if before is not None:
                    cpu = max(0.0, 100.0 * (used - before[1]) / (now - before[0]))
            if cpu is not None:
                said[pid] = cpu
            out.append({"pid": pid, "argv": argv[:1], "cpu": cpu})
        self._prev, self._said = seen, said
        return out

    def _argv(self, pid: int) -> list[str]:
        try:
            with open(f"{self._root}/{pid}/cmdline", "rb") as f:
                raw = f.read()
        except OSError:
            return []
        return [w.decode("utf-8", "replace") for w in raw.split(b"\0") if w]

    def _cpu_seconds(self, pid: int) -> float | None:
        try:
            with open(f"{self._root}/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            return None
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) < 13 or fields[0] in ("Z", "X"):
            return None
        return (int(fields[11]) + int(fields[12])) / self._tick
