"""PolledFeed: a service that reads through the Ray gateway on a poll and publishes it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

from gridtui.errors import GridError
from gridtui.services.publish import Publisher
from gridtui.services.ray.gateway import RayGateway
from gridtui.services.waits import wait_woken

S = TypeVar("S")


class PolledFeed(Generic[S]):
    """Reads (`refresh`) every `interval` or when woken, and publishes each snapshot on its
    Publisher (`published`); while Ray is away or a read fails, a snapshot of `unavailable(message)`
    says why. Subclasses give `refresh`, `unavailable` and their poll's name."""

    task_name = "poll"
    interval = 1.0

    def __init__(self, gateway: RayGateway, initial: S) -> None:
        self.gateway = gateway
        self.published: Publisher[S] = Publisher(initial)
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    @property
    def snapshot(self) -> S:
        return self.published.value()

    def subscribe(self, listener: Callable[[S], None]) -> Callable[[], None]:
        return self.published.subscribe(listener)

    async def refresh(self) -> S:
        raise NotImplementedError

    def unavailable(self, message: str) -> S:
        raise NotImplementedError

    def failure_message(self, exc: GridError) -> str:
        return exc.summary

    def _publish(self, snap: S) -> None:
        self.published.publish(snap)

    def wake(self) -> None:
        self._wake.set()

    async def poll(self, interval: float | None = None) -> None:
        """Publish forever; while Ray is away, an unavailable snapshot says why."""
        pause = self.interval if interval is None else interval
        while True:
            try:
                if self.gateway.connected:
                    await self.refresh()
                else:
                    self._publish(self.unavailable(self.gateway.message))
            except asyncio.CancelledError:
                raise
            except GridError as exc:
                self._publish(self.unavailable(self.failure_message(exc)))
            except Exception as exc:  # a Ray hiccup: shown, then retried
                self._publish(self.unavailable(str(exc) or repr(exc)))
            await wait_woken(self._wake, pause)

    def start_polling(self, interval: float | None = None) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self.poll(interval), name=self.task_name)
        return self._task

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=5)
            self._task = None
