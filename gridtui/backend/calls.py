"""What the REST API reads and calls on the Backend: the console's services, same gateway."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from gridtui.errors import RayUnavailable

if TYPE_CHECKING:
    from gridtui.config import ClusterConfig
    from gridtui.services.control.calls import ControlCalls
    from gridtui.services.control.feed import ControlService
    from gridtui.services.memory.client import MemoryService
    from gridtui.services.memory.queue_sink import QueueSink
    from gridtui.services.metrics.hub import MetricsHub
    from gridtui.services.ray.gateway import RayGateway
    from gridtui.services.ray.view import RayView
    from gridtui.services.work.service import WorkService

T = TypeVar("T")


class ServiceCalls:
    """The Backend's calls for the REST API (a mixin: the Backend holds the fields)."""

    config: ClusterConfig
    gateway: RayGateway | None
    control: ControlService | None
    ray_view: RayView
    _memory: MemoryService | None
    _work: WorkService | None

    @property
    def metrics(self) -> MetricsHub:
        raise NotImplementedError

    def nodes_json(self, history: int = 0) -> dict[str, Any]:
        """Every node: the hub's live figures and state, Ray's view, what is reserved."""
        snap = self.metrics.snapshot()
        view = self.ray_view.view()
        reserved = self.control.snapshot.reserved() if self.control is not None else {}
        nodes = []
        for node in snap.nodes:
            info = view.node(node.name)
            nodes.append(
                dict(
                    node.to_json(history),
                    ray=None if info is None else info.to_json(),
                    reserved=reserved.get(node.name, {}),
                )
            )
        return {
            "cluster": snap.name,
            "time": snap.time,
            "demo": snap.demo,
            "ray": {"connected": view.connected, "message": view.message},
            "nodes": nodes,
        }

    def controller(self) -> ControlService:
        """The reservations service, or RayUnavailable (with Ray's own reason) before it is up."""
        if self.control is None:
            raise RayUnavailable("not connected to Ray yet")
        return self.control

    def connected_gateway(self) -> RayGateway:
        """The gateway, or RayUnavailable saying why Ray cannot be reached now."""
        gateway = self.gateway
        if gateway is None or not gateway.connected:
            why = gateway.message if gateway is not None else "not connected"
            raise RayUnavailable(f"Ray is not reachable: {why}")
        return gateway

    async def ray_call(self, fn: Callable[[], T], timeout: float | None = None) -> T:
        """Run `fn` on the gateway's thread (every Ray call of this process goes there)."""
        return await self.connected_gateway().call(fn, timeout)

    async def control_call(self, fn: Callable[[ControlCalls], T], timeout: float = 30.0) -> T:
        """Run `fn` with the controller's client on the gateway's thread."""
        gateway = self.connected_gateway()
        client = self.controller().client
        return await gateway.call(lambda: fn(client), timeout)

    def work(self) -> WorkService:
        """Jobs, actors and tasks, groups and why (services/work), built once. Its reads go
        to Ray's dashboard; what needs a driver runs on this Backend's gateway."""
        if self._work is None:
            from gridtui.services.work.service import WorkService

            if self.gateway is None:
                raise RayUnavailable("not connected to Ray yet")
            self._work = WorkService(self.config, self.gateway)
        return self._work

    def memory_service(self) -> MemoryService:
        """The memory store's client, configured by the cluster file (built once)."""
        if self._memory is None:
            from gridtui.services.memory.client import MemoryService

            self._memory = MemoryService(self.config)
        return self._memory

    @staticmethod
    def queue_sink(loop: asyncio.AbstractEventLoop) -> QueueSink:
        """A retrieve's sink that an asyncio reader (a streamed response) drains."""
        from gridtui.services.memory.queue_sink import QueueSink

        return QueueSink(loop)

    @staticmethod
    def owner_tag(front: str) -> str:
        """What the controller and Ray record as the owner of what `front` asks for."""
        from gridtui.services.control.client import owner_tag

        return owner_tag(front)

    async def place(self, need: Mapping[str, float], strategy: str) -> dict[str, str]:
        """{node, node_id, reason}: where `strategy` puts one task now, by the live figures."""
        from gridtui.services.control.feed import metrics_table

        metrics = metrics_table(self.metrics.snapshot())
        return await self.control_call(lambda c: c.place(need, strategy, metrics))

    async def offload_status(self) -> dict[str, Any]:
        """Auto-offload's running policy, as `gridtui offload auto --status --json` shows it."""
        from gridtui.services.offload.thresholds import public

        return public(await self.control_call(lambda c: c.offload_status()))

    async def offload_set(
        self, enabled: bool, thresholds: dict[str, float], sustain: float | None, *, dry_run: bool
    ) -> dict[str, Any]:
        """Turn auto-offload on or off with these (checked) changes; what it did after."""
        from gridtui.services.offload.thresholds import apply_policy, public

        file_policy = self.config.offload.policy()
        scopes = {n.name: n.sample_scope for n in self.config.nodes}
        status = await self.control_call(
            lambda c: apply_policy(
                c, file_policy, scopes, enabled, thresholds, sustain, dry_run=dry_run
            )
        )
        return public(status)

    async def offload_events(self, since: int = 0) -> dict[str, Any]:
        return await self.control_call(lambda c: c.offload_events(since))
