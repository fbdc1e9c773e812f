"""gridtui's Python API: reserve resources from a script and run Ray work inside them.

    from gridtui import client
    grid = client.connect()                      # the cluster file lookup, else the demo
    boost = grid.boost("worker-1", "cpu", 1, ttl="30m")
    ref = work.options(**boost.options()).remote()
    grid.release(boost)

Module-level `boost`, `share`, `release`, `reservations` and `place` use the connection
the last `connect()` made (connecting with the defaults on first use)."""

from __future__ import annotations

import asyncio
import builtins
import concurrent.futures
import os
import sys
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from gridtui import memory_api
from gridtui.config import ClusterConfig
from gridtui.model.objects import StoredObject
from gridtui.model.reservations import Reservation
from gridtui.policy.scheduler import DEFAULT_STRATEGY
from gridtui.services.cluster.lookup import find_cluster
from gridtui.services.control.client import ControlClient, ReleaseResult, owner_tag
from gridtui.services.ray.gateway import RayGateway

T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end, from plain code or from inside a running loop (Jupyter)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@dataclass(frozen=True)
class Held:
    """A reservation as the API hands it out: its fields, and the Ray options to use it."""

    reservation: Reservation

    @property
    def id(self) -> str:
        return self.reservation.id

    @property
    def node(self) -> str:
        return self.reservation.node

    @property
    def nodes(self) -> tuple[str, ...]:
        return self.reservation.nodes

    @property
    def state(self) -> str:
        return self.reservation.state

    @property
    def expires(self) -> float | None:
        return self.reservation.expires

    def options(
        self,
        bundle: int | None = None,
        *,
        cpu: float | None = None,
        gpu: float | None = None,
        memory: int | None = None,
    ) -> dict[str, Any]:
        """Keyword arguments for `remote_fn.options(...)` / `Actor.options(...)` that run it
        inside this reservation: by default on `bundle` 0 (any bundle for a split one)
        asking for all of that bundle; `cpu`, `gpu`, `memory` ask for less."""
        import ray
        from ray.util.placement_group import PlacementGroup
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        r = self.reservation
        if not r.held or not r.pg_id:
            # A task aimed at a removed group would wait forever.
            raise ValueError(f"{r.id} holds nothing ({r.state})")
        if bundle is None:
            index = 0 if len(r.bundles) == 1 else -1
            amount = min(b.amount for b in r.bundles)
        else:
            index, amount = bundle, r.bundles[bundle].amount
        # Tasks and actors ask for one CPU by default, which a GPU or memory bundle lacks.
        kwargs: dict[str, Any] = {"num_cpus": 0}
        if r.type == "cpu":
            kwargs["num_cpus"] = amount if cpu is None else cpu
        elif r.type == "gpu":
            kwargs["num_gpus"] = amount if gpu is None else gpu
        else:
            kwargs["memory"] = int(amount if memory is None else memory)
        group = PlacementGroup(ray.PlacementGroupID.from_hex(r.pg_id))
        kwargs["scheduling_strategy"] = PlacementGroupSchedulingStrategy(
            placement_group=group,
            placement_group_bundle_index=index,
            placement_group_capture_child_tasks=True,
        )
        return kwargs

    def to_json(self) -> dict[str, Any]:
        return self.reservation.to_json()


class Grid:
    """A connection to one cluster's controller (the calls block; use from any thread)."""

    def __init__(self, config: ClusterConfig, client: ControlClient, gateway: RayGateway | None):
        self.config = config
        self.control = client
        self._gateway = gateway  # kept: its thread owns the driver this API connected

    def boost(
        self,
        node: str,
        type: str,
        amount: str | float,
        ttl: str | float | None = None,
        *,
        timeout: float = 30.0,
    ) -> Held:
        """Borrow `amount` of `type` (cpu, gpu, memory) on `node`; returns once active."""
        return Held(self.control.boost(node, type, amount, ttl, timeout=timeout))

    def share(
        self,
        type: str,
        amount: str | float,
        strategy: str = DEFAULT_STRATEGY,
        ttl: str | float | None = None,
        *,
        timeout: float = 30.0,
    ) -> Held:
        """Reserve `amount` on the node(s) `strategy` picks from Ray's figures now."""
        return Held(self.control.share(type, amount, strategy, ttl, timeout=timeout))

    def release(self, reservation: Held | Reservation | str) -> ReleaseResult:
        rid = reservation if isinstance(reservation, str) else reservation.id
        return self.control.release(rid)

    def reservations(self, history: bool = False) -> builtins.list[Held]:
        return [Held(r) for r in self.control.reservations(history)]

    def place(
        self,
        cpu: float = 1.0,
        gpu: float = 0.0,
        memory: int = 0,
        strategy: str = DEFAULT_STRATEGY,
    ) -> dict[str, Any]:
        """Options pinning one task to the node `strategy` picks now (nothing reserved:
        Ray may still run other work there first)."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        need = {"cpu": cpu, "gpu": gpu, "memory": float(memory)}
        picked = self.control.place(need, strategy)
        kwargs: dict[str, Any] = {
            "num_cpus": cpu,
            "scheduling_strategy": NodeAffinitySchedulingStrategy(picked["node_id"], soft=False),
        }
        if gpu:
            kwargs["num_gpus"] = gpu
        if memory:
            kwargs["memory"] = int(memory)
        return kwargs


_current: Grid | None = None


def connect(config: ClusterConfig | str | os.PathLike[str] | None = None) -> Grid:
    """Connect to a cluster: a ClusterConfig, a cluster file, or None for the lookup
    (-c is the CLI's; here $GRIDTUI_CONFIG, ./gridtui.yaml, the XDG file, else the demo).
    A script that already called ray.init keeps its own driver."""
    import ray

    global _current
    if isinstance(config, ClusterConfig):
        cfg = config
    else:
        cfg = find_cluster(str(config) if config is not None else None, announce=False).config
    gateway = None
    if not ray.is_initialized():
        gateway = RayGateway(cfg)
        _run(gateway.connect())
    owner = owner_tag(f"api: {Path(sys.argv[0]).name or 'python'}")
    _current = Grid(cfg, ControlClient(cfg, owner=owner), gateway)
    return _current


def _grid() -> Grid:
    return _current if _current is not None else connect()


def boost(
    node: str, type: str, amount: str | float, ttl: str | float | None = None, **kw: Any
) -> Held:
    return _grid().boost(node, type, amount, ttl, **kw)


def share(
    type: str,
    amount: str | float,
    strategy: str = DEFAULT_STRATEGY,
    ttl: str | float | None = None,
    **kw: Any,
) -> Held:
    return _grid().share(type, amount, strategy, ttl, **kw)


def release(reservation: Held | Reservation | str) -> ReleaseResult:
    return _grid().release(reservation)


def reservations(history: bool = False) -> builtins.list[Held]:
    return _grid().reservations(history)


def place(
    cpu: float = 1.0, gpu: float = 0.0, memory: int = 0, strategy: str = DEFAULT_STRATEGY
) -> dict[str, Any]:
    return _grid().place(cpu, gpu, memory, strategy)


# The memory store's calls, in the same public module as the reservations (they live in
# gridtui/memory_api.py); `list` is the store's listing, as in the seed's API.
def put(key: str, data: memory_api.Data, **kw: Any) -> StoredObject:
    return memory_api.put(key, data, **kw)


def get(key: str) -> bytes:
    return memory_api.get(key)


def get_to(key: str, path: str | os.PathLike[str]) -> StoredObject:
    return memory_api.get_to(key, path)


def list() -> builtins.list[StoredObject]:
    return memory_api.list()


def info(key: str) -> StoredObject:
    return memory_api.info(key)


def delete(key: str) -> StoredObject:
    return memory_api.delete(key)
