"""Immutable snapshots the services publish and the panes render."""

from __future__ import annotations

import enum
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gridtui.model.feed import FeedKey


class NodeState(enum.Enum):
    CONNECTING = "CONNECTING"
    UP = "UP"
    STALE = "STALE"
    DOWN = "DOWN"
    UNREACHABLE = "UNREACHABLE"


@dataclass(frozen=True)
class GpuSample:
    index: int
    name: str
    util_percent: float
    mem_used: int
    mem_total: int
    temperature_c: float | None = None

    @property
    def mem_percent(self) -> float:
        return 100.0 * self.mem_used / self.mem_total if self.mem_total else 0.0


@dataclass(frozen=True)
class NodeSample:
    """One agent reading; `time` is the node's clock, `received` the console's."""

    time: float
    received: float
    cpu_percent: float
    cpu_per_core: tuple[float, ...]
    load: tuple[float, float, float]
    mem_total: int
    mem_used: int
    swap_total: int
    swap_used: int
    disk_total: int
    disk_used: int
    net_rx: int
    net_tx: int
    gpus: tuple[GpuSample, ...] = ()
    ray_processes: int = 0
    hostname: str = ""
    scope: str = "host"

    @property
    def mem_percent(self) -> float:
        return 100.0 * self.mem_used / self.mem_total if self.mem_total else 0.0

    @property
    def disk_percent(self) -> float:
        return 100.0 * self.disk_used / self.disk_total if self.disk_total else 0.0

    @property
    def gpu_percent(self) -> float | None:
        """Mean utilisation over the node's GPUs; None means the node has none."""
        if not self.gpus:
            return None
        return sum(g.util_percent for g in self.gpus) / len(self.gpus)

    @classmethod
    def from_agent(cls, data: Mapping[str, Any], received: float) -> NodeSample:
        mem = data.get("mem", {})
        swap = data.get("swap", {})
        disk = data.get("disk", {})
        net = data.get("net", {})
        load = tuple(float(x) for x in data.get("load", (0.0, 0.0, 0.0)))[:3]
        gpus = tuple(
            GpuSample(
                index=int(g.get("index", i)),
                name=str(g.get("name", "GPU")),
                util_percent=float(g.get("util", 0.0)),
                mem_used=int(g.get("mem_used", 0)),
                mem_total=int(g.get("mem_total", 0)),
                temperature_c=None if g.get("temp") is None else float(g["temp"]),
            )
            for i, g in enumerate(data.get("gpus", ()))
        )
        return cls(
            time=float(data.get("t", received)),
            received=received,
            cpu_percent=float(data.get("cpu", 0.0)),
            cpu_per_core=tuple(float(x) for x in data.get("cores", ())),
            load=(*load, 0.0, 0.0, 0.0)[:3],  # type: ignore[arg-type]
            mem_total=int(mem.get("total", 0)),
            mem_used=int(mem.get("used", 0)),
            swap_total=int(swap.get("total", 0)),
            swap_used=int(swap.get("used", 0)),
            disk_total=int(disk.get("total", 0)),
            disk_used=int(disk.get("used", 0)),
            net_rx=int(net.get("rx", 0)),
            net_tx=int(net.get("tx", 0)),
            gpus=gpus,
            ray_processes=int(data.get("ray", {}).get("processes", 0)),
            hostname=str(data.get("host", "")),
            scope=str(data.get("scope", "host")),
        )


class Ring:
    """A bounded history of floats: old values fall off, memory stays flat."""

    __slots__ = ("_values",)

    def __init__(self, capacity: int, values: Iterable[float] = ()) -> None:
        self._values: deque[float] = deque(values, maxlen=max(1, capacity))

    def append(self, value: float) -> None:
        self._values.append(value)

    def values(self) -> tuple[float, ...]:
        return tuple(self._values)

    def tail(self, count: int) -> tuple[float, ...]:
        """The newest `count` values, oldest first."""
        values = tuple(self._values)
        return values[-count:] if len(values) > count else values

    def last(self, default: float = 0.0) -> float:
        return self._values[-1] if self._values else default

    def __len__(self) -> int:
        return len(self._values)

    @property
    def capacity(self) -> int:
        return self._values.maxlen or 0


HISTORY_METRICS = ("cpu", "mem", "gpu", "gpu_mem", "load1", "net_rx_rate", "net_tx_rate")


@dataclass(frozen=True)
class NodeStatus:
    """What the console knows about one node at one instant."""

    name: str
    host: str
    role: str
    state: NodeState
    reason: str = ""
    sample: NodeSample | None = None
    history: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    last_seen: float | None = None

    @property
    def cpu_percent(self) -> float | None:
        return self.sample.cpu_percent if self.sample and self.state is not NodeState.DOWN else None

    @property
    def mem_percent(self) -> float | None:
        return self.sample.mem_percent if self.sample and self.state is not NodeState.DOWN else None

    @property
    def gpu_percent(self) -> float | None:
        return self.sample.gpu_percent if self.sample and self.state is not NodeState.DOWN else None

    @property
    def load1(self) -> float | None:
        return self.sample.load[0] if self.sample and self.state is not NodeState.DOWN else None

    def to_json(self, history: int = 0) -> dict[str, Any]:
        """The REST API's node: state and the latest figures (None when unknown), with the
        newest `history` points of each metric when asked."""
        s = self.sample if self.state is not NodeState.DOWN else None
        out: dict[str, Any] = {
            "name": self.name,
            "host": self.host,
            "role": self.role,
            "state": self.state.value,
            "reason": self.reason,
            "last_seen": self.last_seen,
            "cpu_percent": self.cpu_percent,
            "mem_percent": self.mem_percent,
            "gpu_percent": self.gpu_percent,
            "load": list(s.load) if s else None,
            "mem_used": s.mem_used if s else None,
            "mem_total": s.mem_total if s else None,
            "disk_used": s.disk_used if s else None,
            "disk_total": s.disk_total if s else None,
            "gpus": [
                {
                    "index": g.index,
                    "name": g.name,
                    "util_percent": g.util_percent,
                    "mem_used": g.mem_used,
                    "mem_total": g.mem_total,
                }
                for g in (s.gpus if s else ())
            ],
            "ray_processes": s.ray_processes if s else None,
            "scope": s.scope if s else None,
        }
        if history > 0:
            out["history"] = {m: list(v[-history:]) for m, v in self.history.items()}
        return out


@dataclass(frozen=True)
class RayNodeInfo:
    """Ray's view of one node (resources Ray accounts for, not what the node measures)."""

    alive: bool
    node_id: str = ""
    cpu_total: float = 0.0
    cpu_available: float = 0.0
    gpu_total: float = 0.0
    gpu_available: float = 0.0
    object_store_total: float = 0.0
    object_store_available: float = 0.0
    memory_total: float = 0.0
    memory_available: float = 0.0
    store_used: float | None = None
    """What the raylet reports in use; None when Ray does not say (a dead node)."""
    draining: bool = False
    """Ray drains it: alive, running what it runs, taking nothing new."""

    def to_json(self) -> dict[str, Any]:
        return {
            "alive": self.alive,
            "draining": self.draining,
            "node_id": self.node_id,
            "cpu_total": self.cpu_total,
            "cpu_available": self.cpu_available,
            "gpu_total": self.gpu_total,
            "gpu_available": self.gpu_available,
            "memory_total": self.memory_total,
            "memory_available": self.memory_available,
            "object_store_total": self.object_store_total,
            "object_store_available": self.object_store_available,
            "store_used": self.store_used,
        }


@dataclass(frozen=True)
class Alert:
    time: float
    node: str
    kind: str  # "down", "back", "pressure", "unreachable"
    message: str
    severity: str = "warning"  # "information", "warning", "error" (Textual's names)


@dataclass(frozen=True)
class ClusterSnapshot:
    """The node figures at one instant, as the metrics hub publishes them (Ray's view of
    the same nodes is a RayClusterView, published by the Ray view service)."""

    name: str
    time: float
    nodes: tuple[NodeStatus, ...]
    demo: bool = False
    ray_auth: str = "token"  # the cluster file's ray.auth: "disabled" is shown as a warning

    @property
    def up_count(self) -> int:
        return sum(1 for n in self.nodes if n.state is NodeState.UP)

    def node(self, name: str) -> NodeStatus | None:
        return next((n for n in self.nodes if n.name == name), None)


NODES: FeedKey[ClusterSnapshot] = FeedKey(
    "nodes", lambda: ClusterSnapshot(name="", time=time.time(), nodes=())
)
"""The hub's node figures (the facade gives its own publisher)."""
ALERTS: FeedKey[Alert] = FeedKey("alerts", None)
"""Every service's alerts, each one shown."""
