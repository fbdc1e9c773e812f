"""NodeSampler: a zero-CPU actor pinned to one watched node, measuring it as the console does."""

from __future__ import annotations

import os
import threading
import time
from pathlib import PurePosixPath
from typing import Any

from gridtui.actors.node_tasks import WorkerTitles
from gridtui.agent import rayscope, sampler


def node_dir(raylet_socket: str) -> str:
    """The Ray node's own temp dir, from its raylet's socket (`<dir>/session_*/sockets/
    raylet`, as Ray's node table gives it): the directory every process of that node names
    on its command line, and the console's agent is told (gridtui gives each node its own).
    A socket elsewhere is itself the mark: the raylet names it, its workers descend from it."""
    path = PurePosixPath(raylet_socket)
    parts = path.parts
    if len(parts) > 3 and parts[-2] == "sockets" and parts[-3].startswith("session_"):
        return str(path.parent.parent.parent)
    return raylet_socket


class NodeSampler:
    """The console's agent's own readings (gridtui/agent/sampler.py), on demand: `host`
    measures the machine; `ray-processes` measures one co-located Ray node's process
    tree (the processes naming its temp dir, and theirs) against its declared CPUs and
    memory (the demo's nodes)."""

    def __init__(self, scope: str = "host", mark: str = "", cpus: float = 1.0, memory: int = 0):
        self.scope_name = scope
        self.mark = mark
        self._tree: rayscope.RayScope | None = None
        self._titles: WorkerTitles | None = None
        self._titles_lock = threading.Lock()  # the head's sampler is called from two threads
        self.started = time.monotonic()
        self._cpu_at = self.started
        self.cpu = sampler.CpuMeter()  # primed: its first read measures from here
        self.scope = rayscope.RayScope(mark, cpus, memory) if scope == "ray-processes" else None
        try:
            self.gpus = sampler.open_gpus(1.0)
        except Exception:  # no GPU library: no GPU figure
            self.gpus = None

    def sample(self) -> dict[str, Any]:
        """{t, cpu?, memory, gpu?, over?}: percentages. No cpu when the previous read was
        under MIN_CPU_SECONDS ago (a sampler just made: too short a span to be a figure);
        gpu only when the node has one; `over` names figures over 100% (over_capacity)."""
        cpu: float | None = None
        (mem_total, mem_used), _swap = sampler.memory()
        if self.scope is not None:
            cpu, used, _count = self.scope.read()
            mem_total = self.scope.mem_total or mem_total
            mem_used = used
        elif time.monotonic() - self._cpu_at >= rayscope.MIN_CPU_SECONDS:
            cpu, _ = self.cpu.read()
            self._cpu_at = time.monotonic()
        out: dict[str, Any] = {
            "t": time.time(),
            "pid": os.getpid(),
            "scope": self.scope_name,
            "memory": 100.0 * mem_used / mem_total if mem_total else 0.0,
        }
        if cpu is not None:
            out["cpu"] = float(cpu)
        if self.gpus is not None:
            try:
                utils = [float(g["util"]) for g in self.gpus.read() if g.get("util") is not None]
            except Exception:
                utils = []
            if utils:
                out["gpu"] = sum(utils) / len(utils)
        over = rayscope.over_capacity({r: out.get(r) for r in ("cpu", "memory", "gpu")})
        if over:
            out["over"] = over
        return out

    def tasks(self) -> dict[str, Any]:
        """{workers: [{pid, argv, cpu}]} of the Ray node's titled processes (the tasks it
        runs: model.still_running.pick_tasks), or {error}. Only the node's own process
        tree (the processes naming its temp dir, and theirs) is read, whatever the scope:
        on a co-located host (the demo) other nodes' workers are not this node's."""
        with self._titles_lock:
            if self._tree is None or self._titles is None:
                self._tree = rayscope.RayScope(self.mark, 1.0, 0)  # kept between reads
                self._titles = WorkerTitles(self._tree.pids)
            workers = self._titles.read()
            if not self._tree.tree:
                return {"error": f"no process here names the node's directory {self.mark}"}
        return {"workers": workers}
