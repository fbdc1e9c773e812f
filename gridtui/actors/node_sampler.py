"""NodeSampler: a zero-CPU actor pinned to one watched node, measuring it as the console does."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from gridtui.actors.node_tasks import WorkerTitles
from gridtui.agent import sampler


class NodeSampler:
    """The console's agent's own readings (gridtui/agent/sampler.py), on demand: `host`
    measures the machine; `ray-processes` measures one co-located Ray node's process
    tree against its declared CPUs and memory (the demo's nodes)."""

    def __init__(self, scope: str = "host", address: str = "", cpus: float = 1.0, memory: int = 0):
        self.scope_name = scope
        self.address = address
        self._tree: sampler.RayScope | None = None
        self._titles: WorkerTitles | None = None
        self._titles_lock = threading.Lock()  # the head's sampler is called from two threads
        self.cpu = sampler.CpuMeter()
        self.scope = sampler.RayScope(address, cpus, memory) if scope == "ray-processes" else None
        try:
            self.gpus = sampler.open_gpus(1.0)
        except Exception:  # no GPU library: no GPU figure
            self.gpus = None

    def sample(self) -> dict[str, Any]:
        """{t, cpu, memory, gpu?}: percentages; gpu only when the node has one."""
        total, _ = self.cpu.read()
        (mem_total, mem_used), _swap = sampler.memory()
        if self.scope is not None:
            total, rss, _count = self.scope.read()
            mem_total = self.scope.mem_total or mem_total
            mem_used = rss
        out: dict[str, Any] = {
            "t": time.time(),
            "pid": os.getpid(),
            "scope": self.scope_name,
            "cpu": float(total),
            "memory": 100.0 * mem_used / mem_total if mem_total else 0.0,
        }
        if self.gpus is not None:
            try:
                utils = [float(g["util"]) for g in self.gpus.read() if g.get("util") is not None]
            except Exception:
                utils = []
            if utils:
                out["gpu"] = sum(utils) / len(utils)
        return out

    def tasks(self) -> dict[str, Any]:
        """{workers: [{pid, argv, cpu}]} of the Ray node's titled processes (the tasks it
        runs: model.still_running.pick_tasks), or {error}. Only the node's own process
        tree (its raylet's, found by its address) is read, whatever the scope: on a
        co-located host (the demo) other nodes' workers are not this node's."""
        with self._titles_lock:
            if self._tree is None or self._titles is None:
                self._tree = sampler.RayScope(self.address, 1.0, 0)  # kept between reads
                self._titles = WorkerTitles(self._tree.pids)
            workers = self._titles.read()
            if not self._tree.tree:
                return {"error": f"no process here names the node's address {self.address}"}
        return {"workers": workers}
