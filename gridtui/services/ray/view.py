"""RayView: polls Ray's node table through the gateway and publishes it as a RayClusterView."""

from __future__ import annotations

import asyncio
import types
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from gridtui.model.nodes import RayNodeInfo
from gridtui.model.ray import RayClusterView, match_nodes, ray_info, ray_infos
from gridtui.services.publish import Listener, Publisher
from gridtui.services.waits import wait_woken
from gridtui.transport.backoff import Backoff

if TYPE_CHECKING:
    from gridtui.services.ray.gateway import RayGateway

# The parser lives in the model; lifecycle and cluster_status read it through here too.
__all__ = ["RayClusterView", "RayView", "match_nodes", "ray_info", "ray_infos"]


class RayView:
    """The one owner of Ray's view for the console: nothing else pushes into it but the
    demo's start, which reports its progress here while Ray is on its way up."""

    def __init__(self, *, window: float = 0.25) -> None:
        self._view = RayClusterView()
        self.published: Publisher[RayClusterView] = Publisher.coalescing(self.view, window=window)
        self._wake = asyncio.Event()
        self._closing = False

    def subscribe(self, listener: Listener[RayClusterView]) -> Callable[[], None]:
        return self.published.subscribe(listener)

    def view(self) -> RayClusterView:
        return self._view

    def set(
        self,
        connected: bool | None,
        nodes: Mapping[str, RayNodeInfo] | None = None,
        message: str = "",
        *,
        pending: bool = False,
    ) -> None:
        """Publish a new view when it differs; an unchanged node keeps its old object, so
        panes that compare by identity redraw only the nodes Ray's figures moved on."""
        old = self._view.nodes
        kept = {
            name: old[name] if old.get(name) == info else info
            for name, info in (nodes or {}).items()
        }
        view = RayClusterView(connected, message, pending, types.MappingProxyType(kept))
        if view == self._view:
            return
        self._view = view
        self.published.changed()

    def progress(self, message: str) -> None:
        """Ray is on its way up (the demo's start): the message is progress, not a failure."""
        self.set(False, {}, message, pending=True)

    # -- the poll loop --------------------------------------------------------------------

    async def run(self, gateway: RayGateway, interval: float = 2.0) -> None:
        """Read Ray's node table every `interval` (or when woken) until stopped; a failure
        drops the driver, says why, and retries with backoff."""
        backoff = Backoff(base=1.0, cap=15.0)
        while not self._closing:
            try:
                if not gateway.connected:
                    await gateway.connect()
                    backoff.reset()
                self.set(True, await gateway.nodes())
                await self._pause(interval)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                await gateway.drop(str(exc) or exc.__class__.__name__)
                self.set(False, {}, gateway.message)
                await self._pause(backoff.next_delay())

    def wake(self) -> None:
        """Poll (or reconnect) now instead of after the current wait: the cluster changed."""
        self._wake.set()

    def request_stop(self) -> None:
        """End the poll loop at its next turn (and wake it from its wait)."""
        self._closing = True
        self.wake()

    async def _pause(self, seconds: float) -> None:
        await wait_woken(self._wake, seconds)

    def close(self) -> None:
        self.request_stop()
        self.published.cancel()
