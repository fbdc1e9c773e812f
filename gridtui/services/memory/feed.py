"""ConsoleMemory: the console's async face on the memory store, publishing its listing.

Every Ray call runs on the gateway's thread (`RayGateway.call`), a transfer as steps of
milliseconds between which the other polls get their turn; a poll publishes a
MemorySnapshot to `subscribe`rs."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

from gridtui.config import ClusterConfig
from gridtui.errors import GridError
from gridtui.model.objects import MemorySnapshot, StoredObject
from gridtui.services.memory.calls import MemoryCalls
from gridtui.services.memory.client import TransferCancelled, check_key
from gridtui.services.memory.handles import CALL_TIMEOUT
from gridtui.services.memory.io import check_source, check_target
from gridtui.services.memory.transfer import Job, ProgressFn, run_async
from gridtui.services.polled import PolledFeed
from gridtui.services.ray.driver_stubs import memory_client
from gridtui.services.ray.gateway import RayGateway

NOTHING_STORED = "nothing stored yet"


def check_store(key: str, path: str | os.PathLike[str]) -> Path:
    """What the store dialog checks as it is typed: the file (not opened), then the key."""
    source = check_source(path)
    check_key(key)
    return source


def check_retrieve(key: str, path: str | os.PathLike[str]) -> Path:
    check_key(key)
    return check_target(path)


class ConsoleMemory(PolledFeed[MemorySnapshot]):
    """Stores, retrieves and deletes for the console; a poll publishes the listing."""

    task_name = "memory-poll"
    interval = 2.0

    def __init__(
        self,
        gateway: RayGateway,
        service: MemoryCalls | None = None,
        *,
        config: ClusterConfig | None = None,
    ) -> None:
        super().__init__(gateway, MemorySnapshot((), (), time.time(), message="not connected"))
        # An isolated gateway's driver holds the client and its jobs (typed requests).
        self.service = service or memory_client(gateway, config)

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
        return await self._transfer(job, progress, cancel)

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
        # wait=False: a FIFO nobody reads is refused at once, never a driver held waiting.
        job: Job = await self.gateway.call(
            lambda: self.service.retrieve_job(key, path, wait=False), CALL_TIMEOUT * 2
        )
        return await self._transfer(job, progress, cancel)

    async def _transfer(
        self, job: Job, progress: ProgressFn | None, cancel: threading.Event | None
    ) -> StoredObject | None:
        """Step the job to its end through the gateway; None when cancelled."""
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

    def unavailable(self, message: str) -> MemorySnapshot:
        return MemorySnapshot((), (), time.time(), message)

    def failure_message(self, exc: GridError) -> str:
        return exc.summary.splitlines()[0]
