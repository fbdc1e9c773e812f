"""The controller's and the memory store's clients as the console sees them: in this
process, or in its driver process (an isolated gateway), where each call is a typed request."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from gridtui.config import ClusterConfig
from gridtui.model.objects import MemorySnapshot, StoredObject, TransferProgress
from gridtui.model.offload import OffloadPolicy
from gridtui.model.reservations import NodeView, Reservation, ReservationEvent
from gridtui.model.reservations import ReservationsSnapshot as Snapshot
from gridtui.policy.amounts import DEFAULT_TIMEOUT
from gridtui.policy.scheduler import DEFAULT_STRATEGY, Placement
from gridtui.services.control.calls import ControlCalls, Metrics
from gridtui.services.control.client import ControlClient, ReleaseResult
from gridtui.services.control.requests import Pending, Request
from gridtui.services.memory.calls import MemoryCalls
from gridtui.services.memory.client import MemoryService
from gridtui.services.memory.transfer import Job
from gridtui.services.ray.driver_calls import (
    JobAbort,
    JobBegin,
    JobFinish,
    JobStep,
    NewJob,
    on_control,
    on_memory,
)
from gridtui.services.ray.driver_link import HostLink
from gridtui.services.ray.gateway import RayGateway

C = ControlClient
M = MemoryService


def control_client(gateway: RayGateway, owner: str) -> ControlCalls:
    """The controller's client for `owner`: the driver process's when it has one."""
    if gateway.isolated:
        return DriverControl(gateway.link, owner)
    return ControlClient(gateway.config, owner=owner)


def memory_client(gateway: RayGateway, config: ClusterConfig | None = None) -> MemoryCalls:
    """The memory store's client: the driver process's (its jobs stay there) when it has one."""
    if gateway.isolated:
        return DriverMemory(gateway.link)
    return MemoryService(config or gateway.config)


class DriverControl:
    """ControlCalls, each run by the driver process's ControlClient of the same owner."""

    def __init__(self, link: HostLink, owner: str) -> None:
        self._link = link
        self.owner = owner

    def request_boost(
        self, node: str, request: Request, *, timeout: float = DEFAULT_TIMEOUT
    ) -> Pending:
        ask = on_control(self.owner, C.request_boost, node, request, timeout=timeout)
        return self._link.call(ask)

    def request_share(
        self, request: Request, strategy: str = DEFAULT_STRATEGY, *,
        timeout: float = DEFAULT_TIMEOUT, metrics: Metrics | None = None,
    ) -> Pending:  # fmt: skip
        ask = on_control(
            self.owner, C.request_share, request, strategy, timeout=timeout, metrics=metrics
        )
        return self._link.call(ask)

    def poll(self, pending: Pending, wait: float = 0.0) -> Reservation:
        return self._link.call(on_control(self.owner, C.poll, pending, wait))

    def withdraw(self, rid: str, why: str = "its client gave up") -> None:
        self._link.call(on_control(self.owner, C.withdraw, rid, why))

    def release(self, rid: str) -> ReleaseResult:
        return self._link.call(on_control(self.owner, C.release, rid))

    def snapshot(self, history: bool = True) -> Snapshot:
        return self._link.call(on_control(self.owner, C.snapshot, history))

    def events(self) -> list[ReservationEvent]:
        return self._link.call(on_control(self.owner, C.events))

    def node_views(self, metrics: Metrics | None = None) -> list[NodeView]:
        return self._link.call(on_control(self.owner, C.node_views, metrics))

    def plan(
        self, rtype: str, amount: str | float, strategy: str = DEFAULT_STRATEGY,
        metrics: Metrics | None = None,
    ) -> Placement:  # fmt: skip
        return self._link.call(on_control(self.owner, C.plan, rtype, amount, strategy, metrics))

    def place(
        self, need: Mapping[str, float], strategy: str = DEFAULT_STRATEGY,
        metrics: Metrics | None = None,
    ) -> dict[str, str]:  # fmt: skip
        return self._link.call(on_control(self.owner, C.place, dict(need), strategy, metrics))

    def offload_status(self) -> dict[str, Any]:
        return self._link.call(on_control(self.owner, C.offload_status))

    def offload_set(self, policy: OffloadPolicy, scopes: Mapping[str, str]) -> dict[str, Any]:
        return self._link.call(on_control(self.owner, C.offload_set, policy, dict(scopes)))

    def offload_events(self, since: int = 0) -> dict[str, Any]:
        return self._link.call(on_control(self.owner, C.offload_events, since))

    def drain_begin(self, node: str) -> dict[str, Any]:
        return self._link.call(on_control(self.owner, C.drain_begin, node))

    def drain_poll(self, node: str, cancel: str = "") -> dict[str, Any]:
        return self._link.call(on_control(self.owner, C.drain_poll, node, cancel))

    def node_undrain(self, node: str) -> dict[str, Any]:
        return self._link.call(on_control(self.owner, C.node_undrain, node))


class DriverMemory:
    """MemoryCalls, each run by the driver process's MemoryService; the driver opens the
    files and keeps the jobs, stepped from here (DriverJob)."""

    def __init__(self, link: HostLink) -> None:
        self._link = link

    def store_job(
        self, key: str, source: str | os.PathLike[str], *, node: str | None = None,
        replicas: int = 1, force: bool = False,
    ) -> Job:  # fmt: skip
        start = on_memory(M.store_job, key, source, node=node, replicas=replicas, force=force)
        return DriverJob(self._link, self._link.call(NewJob(start)))

    def retrieve_job(self, key: str, target: str | os.PathLike[str], *, wait: bool = True) -> Job:
        start = on_memory(M.retrieve_job, key, target, wait=wait)
        return DriverJob(self._link, self._link.call(NewJob(start)))

    def delete(self, key: str) -> StoredObject:
        return self._link.call(on_memory(M.delete, key))

    def peek(self) -> MemorySnapshot | None:
        return self._link.call(on_memory(M.peek))


class DriverJob:
    """A store or retrieve job held by the driver; `done` comes back with every step."""

    def __init__(self, link: HostLink, job_id: int) -> None:
        self._link = link
        self._id = job_id
        self.done = False

    def begin(self) -> None:
        self.done = self._link.call(JobBegin(self._id))

    def step(self) -> TransferProgress:
        progress, self.done = self._link.call(JobStep(self._id))
        return progress

    def finish(self) -> StoredObject:
        return self._link.call(JobFinish(self._id))

    def abort(self) -> None:
        self._link.call(JobAbort(self._id))
