"""ConsoleMemory: the console's async face on the memory store, publishing its listing.

Every Ray call runs on the gateway's thread (`RayGateway.call`), a transfer as steps of
milliseconds between which the other polls get their turn; a poll publishes a
MemorySnapshot to `subscribe`rs."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

from gridtui.config import ClusterConfig
from gridtui.errors import GridError
from gridtui.model.objects import MemorySnapshot, StoredObject
from gridtui.services.memory import MemoryService, TransferCancelled, check_key
from gridtui.services.memory_io import check_source, check_target
from gridtui.services.memory_ray import CALL_TIMEOUT
from gridtui.services.memory_transfer import Job, ProgressFn, run_async
from gridtui.services.ray_gateway import RayGateway
from gridtui.services.waits import wait_woken

NOTHING_STORED = "nothing stored yet"
Listener = Callable[[MemorySnapshot], None]


def check_store(key: str, path: str | os.PathLike[str]) -> Path:
    """What the store dialog checks as it is typed: the file (not opened), then the key."""
    source = check_source(path)
    check_key(key)
    return source


def check_retrieve(key: str, path: str | os.PathLike[str]) -> Path:
    check_key(key)
    return check_target(path)


class ConsoleMemory:
    """Stores, retrieves and deletes for the console; a poll publishes the listing."""

    def __init__(
        self,
        gateway: RayGateway,
        service: MemoryService | None = None,
        *,
        config: ClusterConfig | None = None,
    ) -> None:
        self.gateway = gateway
        if service is None:
            # An isolated gateway's driver holds the client and its jobs (a typed stand-in).
            service = (
                cast(MemoryService, gateway.remote_memory())
                if gateway.isolated
                else MemoryService(config or gateway.config)
            )
        self.service = service
        self.snapshot = MemorySnapshot((), (), time.time(), message="not connected")
        self._listeners: list[Listener] = []
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    # -- what the keys do ---------------------------------------------------------------------

    async def store(
        self,
        key: str,
        path: str | os.PathLike[str],
        *,
        node: str | None = None,
        replicas: int = 1,
        force: bool = False,
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
    ) -> StoredObject | None:
        """The stored object, or None when `cancel` was set (nothing is left behind)."""

        def store_job() -> Job:
            return self.service.store_job(key, path, node=node, replicas=replicas, force=force)

        if self.gateway.isolated:  # the driver process opens the file
            job = await self.gateway.call(store_job, CALL_TIMEOUT * 2)
        else:
            # Opening the file is the one blocking step outside Ray's (a pipe waits for its
            # writer): a thread of its own, so neither the loop nor the gateway waits on it.
            job = await asyncio.to_thread(store_job)
        try:
            return await run_async(job, self.gateway.call, progress, cancel)
        except TransferCancelled:
            return None
        finally:
            self.wake()

    async def retrieve(
        self,
        key: str,
        path: str | os.PathLike[str],
        *,
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
    ) -> StoredObject | None:
        """The object written to `path` (complete and checked), or None when cancelled
        (no file is left under `path`)."""
        job: Job = await self.gateway.call(
            lambda: self.service.retrieve_job(key, path), CALL_TIMEOUT * 2
        )
        try:
            return await run_async(job, self.gateway.call, progress, cancel)
        except TransferCancelled:
            return None
        finally:
            self.wake()

    async def delete(self, key: str) -> StoredObject:
        try:
            return await self.gateway.call(lambda: self.service.delete(key), 30.0)
        finally:
            self.wake()

    # -- the listing ----------------------------------------------------------------------------

    async def refresh(self) -> MemorySnapshot:
        peeked = await self.gateway.call(self.service.peek, 30.0)
        snap = peeked or MemorySnapshot((), (), time.time(), message=NOTHING_STORED)
        self._publish(snap)
        return snap

    def _publish(self, snap: MemorySnapshot) -> None:
        self.snapshot = snap
        for listener in list(self._listeners):
            listener(snap)

    def wake(self) -> None:
        self._wake.set()

    async def poll(self, interval: float = 2.0) -> None:
        """Publish forever; while Ray is away, an empty snapshot says why."""
        while True:
            try:
                if self.gateway.connected:
                    await self.refresh()
                else:
                    self._publish(MemorySnapshot((), (), time.time(), self.gateway.message))
            except asyncio.CancelledError:
                raise
            except GridError as exc:
                self._publish(MemorySnapshot((), (), time.time(), exc.summary.splitlines()[0]))
            except Exception as exc:  # a Ray hiccup: shown, then retried
                self._publish(MemorySnapshot((), (), time.time(), str(exc) or repr(exc)))
            await wait_woken(self._wake, interval)

    def start_polling(self, interval: float = 2.0) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self.poll(interval), name="memory-poll")
        return self._task

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=5)
            self._task = None
