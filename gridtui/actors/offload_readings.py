"""The offload engine's readings: one sampler per watched node, live figures, a history."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterable
from typing import Any

import ray

from gridtui.actors import cluster, registry
from gridtui.actors.node_sampler import NodeSampler, node_dir
from gridtui.agent.rayscope import MIN_CPU_SECONDS
from gridtui.model.offload import RESOURCES
from gridtui.policy.offload import Sample

HISTORY_SAMPLES = 600
SAMPLE_TIMEOUT = 2.0

log = logging.getLogger(__name__)


class Readings:
    """What the engine knows of its nodes' figures. A sample is stamped with the engine's
    own clock when it arrives (a node's clock may differ from the controller's: the time
    of a policy change and of a sample must compare), and stamps never go backwards."""

    def __init__(self, scopes: dict[str, str]) -> None:
        self.scopes = scopes
        self.samplers: dict[str, Any] = {}
        self.history: dict[str, deque[Sample]] = {}
        self.live: dict[str, dict[str, Any]] = {}
        self._flagged: dict[str, frozenset[str]] = {}

    def sample(self, name: str, node: cluster.RayNode) -> bool:
        """Read one node (its sampler made when missing); False when it did not answer."""
        handle = self.samplers.get(name)
        if handle is None:
            handle = self.samplers[name] = self.start(name, node)
        try:
            if isinstance(handle, NodeSampler):
                reading = handle.sample()
            else:
                reading = ray.get(handle.sample.remote(), timeout=SAMPLE_TIMEOUT)
        except Exception:  # a dead or slow sampler (or node): look again next time
            self.samplers.pop(name, None)
            return False
        self.record(name, reading)
        return True

    def at_change(self, nodes: Iterable[tuple[str, cluster.RayNode]]) -> None:
        """The first samples of a new policy, taken at once, so its sustain windows start
        at the change, not a tick later. A sampler made here in this process is given
        MIN_CPU_SECONDS first (a CPU figure needs a span); one made on another node is
        read from the next tick on (its actor takes a while to start)."""
        nodes = list(nodes)
        had = set(self.samplers)
        for name, node in nodes:
            if name not in had:
                self.samplers[name] = self.start(name, node)
        if any(isinstance(self.samplers[n], NodeSampler) for n, _ in nodes if n not in had):
            time.sleep(MIN_CPU_SECONDS)
        for name, node in nodes:
            if name in had or isinstance(self.samplers.get(name), NodeSampler):
                self.sample(name, node)

    def record(self, name: str, reading: dict[str, Any]) -> None:
        """Shown at once; stepped (kept in the history) only with its CPU figure: one read
        too soon after its sampler was made has none, and to the policy a missing figure
        is a resource the node lacks (which lifts a fence restored after a restart)."""
        self.live[name] = reading
        self._flag(name, reading.get("over") or {})
        if reading.get("cpu") is None:
            return
        history = self.history.setdefault(name, deque(maxlen=HISTORY_SAMPLES))
        now = max(time.time(), history[-1][0] if history else -1.0)
        values = {r: float(reading[r]) for r in RESOURCES if reading.get(r) is not None}
        history.append((now, values))

    def _flag(self, name: str, over: dict[str, float]) -> None:
        """A figure over 100% is logged once while it lasts (NodeSampler says what it means)."""
        now = frozenset(over)
        for resource in sorted(now - self._flagged.get(name, frozenset())):
            log.warning(
                "%s reads %s at %.1f%% of what it declares: its processes hold more than "
                "the node declares, or the measurement is wrong",
                name, resource, over[resource],
            )  # fmt: skip
        self._flagged[name] = now

    def start(self, name: str, node: cluster.RayNode) -> Any:
        """A sampler on the node: on the controller's own node (the head, as a rule), in
        this process (an actor of its own there cost another Ray worker's idle CPU and a
        call a second); elsewhere a zero-CPU actor pinned to the node."""
        scope = self.scopes.get(name, "host")
        cpus = node.total.get("CPU", 1.0)
        memory = int(node.total.get("memory", 0))
        mark = node_dir(node.raylet_socket)
        if self._local(node):
            return NodeSampler(scope, mark, cpus, memory)
        return registry.start_sampler(NodeSampler, name, node.node_id, scope, mark, cpus, memory)

    def drop(self) -> None:
        """Every sampler and every sample: what comes next is measured afresh."""
        for handle in self.samplers.values():
            if isinstance(handle, NodeSampler):
                continue
            try:
                ray.kill(handle)
            except Exception:
                continue
        self.samplers.clear()
        self.history.clear()

    @staticmethod
    def _local(node: cluster.RayNode) -> bool:
        return node.node_id == _own_node_id()


def _own_node_id() -> str:
    """The Ray node this code runs on ("" outside a Ray worker or driver)."""
    try:
        return str(ray.get_runtime_context().get_node_id())
    except Exception:
        return ""
