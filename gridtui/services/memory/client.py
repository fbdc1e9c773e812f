"""MemoryService: store, retrieve, list and delete objects kept in the cluster's memory."""

from __future__ import annotations

import os
import threading
from typing import IO

from gridtui.config import ClusterConfig
from gridtui.model.objects import (
    MemorySnapshot,
    ShardUsage,
    StoredObject,
    TransferProgress,
    key_problem,
)
from gridtui.model.wire.memory import Delete, Listing, ListObjects, Lookup
from gridtui.services.memory.handles import (
    ChecksumMismatch,
    KeyExists,
    MemoryRefused,
    NoSuchObject,
    ObjectLost,
    RayMemory,
    TransferCancelled,
)
from gridtui.services.memory.io import (
    BufferSink,
    ChunkSource,
    FileSink,
    MemoryInputError,
    Sink,
    StreamSink,
)
from gridtui.services.memory.transfer import (
    CHUNK_SIZE,
    WINDOW,
    Call,
    ProgressFn,
    RetrieveJob,
    StoreJob,
    run,
    run_async,
)

__all__ = [
    "ChecksumMismatch",
    "KeyExists",
    "MemoryInputError",
    "MemoryRefused",
    "MemoryService",
    "NoSuchObject",
    "ObjectLost",
    "TransferCancelled",
    "TransferProgress",
]

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]
Target = str | os.PathLike[str] | IO[bytes] | Sink


def check_key(key: str) -> str:
    problem = key_problem(key)
    if problem is not None:
        raise MemoryInputError(problem)
    return key


class MemoryService:
    """The one client of the memory store for the CLI, the console and the Python API.

    Blocking methods make Ray calls on the calling thread (Ray must be connected: the
    RayGateway or `ray.init`). The `*_async` methods run every Ray call through `call`
    (RayGateway.call), in steps of milliseconds, so a transfer never holds the gateway's
    thread for long and the console keeps its figures moving; cancelling their task
    aborts the transfer and leaves nothing behind. Bad input raises MemoryInputError
    (exit 2) before anything moves; the cluster's refusals raise MemoryRefused (exit 1)."""

    def __init__(
        self,
        config: ClusterConfig | None = None,
        *,
        fraction: float | None = None,
        chunk_size: int = CHUNK_SIZE,
        window: int = WINDOW,
    ) -> None:
        if fraction is None:
            fraction = config.ray.store_capacity if config is not None else 0.5
        self.chunk_size = chunk_size
        self.window = window
        self.ray = RayMemory(fraction)

    def configure(self, config: ClusterConfig) -> None:
        """Take the cluster file's per-node capacity (the share of each object store)."""
        self.ray.fraction = config.ray.store_capacity

    # -- jobs: checked before any byte moves ----------------------------------------------

    def store_job(
        self,
        key: str,
        source: Source,
        *,
        node: str | None = None,
        replicas: int = 1,
        force: bool = False,
        size: int | None = None,
    ) -> StoreJob:
        """`size` is a stream's announced length (an HTTP upload's): room for it is asked
        for up front, so a store too big for the cluster is refused before it is sent."""
        check_key(key)
        if replicas < 1:
            raise MemoryInputError("--replicas must be at least 1")
        if isinstance(source, bytes | bytearray | memoryview):
            chunks = ChunkSource.from_bytes(source, self.chunk_size)
        elif isinstance(source, str | os.PathLike):
            chunks = ChunkSource.open(source, self.chunk_size)
        else:
            chunks = ChunkSource(source, size, self.chunk_size)
        return StoreJob(
            self.ray, key, chunks, node=node, replicas=replicas, force=force, window=self.window
        )

    def retrieve_job(self, key: str, target: Target, *, wait: bool = True) -> RetrieveJob:
        """A path is opened now (gridtui/outfile.py: OutputError, exit 1, when it cannot
        be written); `wait`: a FIFO's open waits for a reader, else it is refused."""
        check_key(key)
        if isinstance(target, Sink):
            sink = target
        elif isinstance(target, str | os.PathLike):
            sink = FileSink(target, wait=wait)
        else:
            sink = StreamSink(target)
        return RetrieveJob(self.ray, key, sink, window=self.window)

    # -- blocking ----------------------------------------------------------------------------

    def store(
        self,
        key: str,
        source: Source,
        *,
        node: str | None = None,
        replicas: int = 1,
        force: bool = False,
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
    ) -> StoredObject:
        job = self.store_job(key, source, node=node, replicas=replicas, force=force)
        return run(job, progress, cancel)

    def retrieve(
        self,
        key: str,
        target: Target,
        *,
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
    ) -> StoredObject:
        return run(self.retrieve_job(key, target), progress, cancel)

    def read(self, key: str) -> bytes:
        sink = BufferSink()
        self.retrieve(key, sink)
        return sink.value()

    def info(self, key: str) -> StoredObject:
        return StoredObject.from_index(self.ray.ask(Lookup(check_key(key))).record)

    def delete(self, key: str) -> StoredObject:
        return StoredObject.from_index(self.ray.ask(Delete(check_key(key))).record)

    def snapshot(self) -> MemorySnapshot:
        return self._snapshot(self.ray.ask(ListObjects(self.ray.fraction)))

    def peek(self) -> MemorySnapshot | None:
        """The listing, or None while no index host runs (nothing was ever stored): a
        console that only looks never starts one."""
        return self.snapshot() if self.ray.exists() else None

    def objects(self) -> list[StoredObject]:
        return [*self.snapshot().objects]

    def usage(self) -> list[ShardUsage]:
        return [*self.snapshot().usage]

    @staticmethod
    def _snapshot(listing: Listing) -> MemorySnapshot:
        return MemorySnapshot(
            objects=tuple(StoredObject.from_index(o) for o in listing.objects),
            usage=tuple(ShardUsage.from_index(u) for u in listing.usage),
            taken=listing.now,
        )

    # -- async, through the gateway ------------------------------------------------------

    async def run_async(
        self,
        call: Call,
        job: StoreJob | RetrieveJob,
        *,
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
    ) -> StoredObject:
        """Run a job from store_job/retrieve_job (checked already) through `call`; setting
        `cancel` aborts it between two steps (TransferCancelled), leaving nothing behind."""
        return await run_async(job, call, progress, cancel)

    async def store_async(
        self,
        call: Call,
        key: str,
        source: Source,
        *,
        node: str | None = None,
        replicas: int = 1,
        force: bool = False,
        progress: ProgressFn | None = None,
    ) -> StoredObject:
        job = self.store_job(key, source, node=node, replicas=replicas, force=force)
        return await run_async(job, call, progress)

    async def retrieve_async(
        self, call: Call, key: str, target: Target, *, progress: ProgressFn | None = None
    ) -> StoredObject:
        return await run_async(self.retrieve_job(key, target), call, progress)

    async def snapshot_async(self, call: Call) -> MemorySnapshot:
        result: MemorySnapshot = await call(self.snapshot, 30.0)
        return result

    async def info_async(self, call: Call, key: str) -> StoredObject:
        result: StoredObject = await call(lambda: self.info(key), 30.0)
        return result

    async def delete_async(self, call: Call, key: str) -> StoredObject:
        result: StoredObject = await call(lambda: self.delete(key), 30.0)
        return result
