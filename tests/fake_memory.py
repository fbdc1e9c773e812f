"""A ConsoleMemory stand-in for console tests: recorded objects, bytes kept in a dict."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import cast

from fake_control import LAB_NOW

from gridtui.backend import Backend
from gridtui.errors import GridError
from gridtui.model.objects import MemorySnapshot, ShardUsage, StoredObject, TransferProgress
from gridtui.services.memory.feed import ConsoleMemory

MiB = 1024**2
GIB = 1024**3
CHUNK = 4 * MiB


def obj(key: str, size: int, nodes: tuple[str, ...], age: float, *, replicas: int = 0,
        state: str = "complete", lost: tuple[str, ...] = (), now: float = LAB_NOW) -> StoredObject:  # fmt: skip
    return StoredObject(
        key, size, hashlib.sha256(key.encode()).hexdigest(), max(1, -(-size // CHUNK)),
        nodes, replicas or len(nodes) + len(lost), now - age, now - age / 2, state, lost,
    )  # fmt: skip


def lab_memory(now: float = LAB_NOW) -> MemorySnapshot:
    """One of each look: two replicas, one, a lost one (box3 is dead), a long key."""
    objects = (
        obj("weights/v3", int(1.2 * GIB), ("box1", "ws"), 3700),
        obj("dataset.parquet", 300 * MiB, ("box2",), 125),
        obj("runs/2025-06-01/checkpoint-0042.pt", 96 * MiB, ("ws",), 42),
        obj("cache/old", 64 * MiB, (), 900, state="lost", lost=("box3",)),
    )
    usage = (
        ShardUsage("box1", "n1", True, 4 * GIB, int(1.2 * GIB), 0, 1),
        ShardUsage("box2", "n2", True, 4 * GIB, 300 * MiB, 512 * MiB, 1),
        ShardUsage("box3", "n3", False, 2 * GIB, 0, 0, 0),
        ShardUsage("ws", "n0", True, 8 * GIB, int(1.2 * GIB) + 96 * MiB, 0, 2),
    )
    return MemorySnapshot(objects, usage, now)


class FakeMemory:
    """What the console calls on a ConsoleMemory, answered from memory. A transfer moves
    CHUNK bytes per step and yields between steps; `hold`, while cleared, stops it after
    the first chunk (so a test can cancel half way); `fail` makes the next call raise."""

    def __init__(self, snapshot: MemorySnapshot | None = None) -> None:
        self.snapshot = snapshot or MemorySnapshot((), (), LAB_NOW)
        self.data: dict[str, bytes] = {}
        self.calls: list[tuple[object, ...]] = []
        self.fail: GridError | None = None
        self.hold = asyncio.Event()
        self.hold.set()
        self.started = asyncio.Event()
        self._listeners: list[Callable[[MemorySnapshot], None]] = []

    def subscribe(self, fn: Callable[[MemorySnapshot], None]) -> Callable[[], None]:
        self._listeners.append(fn)
        return lambda: None

    def publish(self, objects: tuple[StoredObject, ...]) -> None:
        self.snapshot = MemorySnapshot(objects, self.snapshot.usage, LAB_NOW)
        for fn in list(self._listeners):
            fn(self.snapshot)

    async def _steps(self, key: str, direction: str, total: int,
                     progress: Callable[[TransferProgress], None] | None,
                     cancel: threading.Event | None) -> bool:  # fmt: skip
        """Whether the transfer ran to its end (False: cancelled between two chunks)."""
        done = 0
        while True:
            done = min(total, done + CHUNK)
            if progress is not None:
                progress(TransferProgress(key, direction, done, total, 1.0))
            self.started.set()
            await asyncio.sleep(0)
            if done < total:
                await self.hold.wait()
            if cancel is not None and cancel.is_set():
                return False
            if done >= total:
                return True

    async def store(self, key: str, path: Path, *, node: str | None = None, replicas: int = 1,
                    force: bool = False, progress: Callable[[TransferProgress], None] | None = None,
                    cancel: threading.Event | None = None) -> StoredObject | None:  # fmt: skip
        self.calls.append(("store", key, str(path), node, replicas, force))
        if self.fail is not None:
            raise self.fail
        data = await asyncio.to_thread(Path(path).read_bytes)
        if not await self._steps(key, "store", len(data), progress, cancel):
            return None
        self.data[key] = data
        stored = obj(key, len(data), (node or "box2",), 0, replicas=replicas)
        self.publish((*(o for o in self.snapshot.objects if o.key != key), stored))
        return stored

    async def retrieve(self, key: str, path: Path, *,
                       progress: Callable[[TransferProgress], None] | None = None,
                       cancel: threading.Event | None = None) -> StoredObject | None:  # fmt: skip
        self.calls.append(("retrieve", key, str(path)))
        if self.fail is not None:
            raise self.fail
        found = next(o for o in self.snapshot.objects if o.key == key)
        data = self.data.get(key, b"")
        if not await self._steps(key, "retrieve", len(data), progress, cancel):
            return None
        await asyncio.to_thread(_write, path, data)
        return found

    async def delete(self, key: str) -> StoredObject:
        self.calls.append(("delete", key))
        if self.fail is not None:
            raise self.fail
        gone = next(o for o in self.snapshot.objects if o.key == key)
        self.data.pop(key, None)
        self.publish(tuple(o for o in self.snapshot.objects if o.key != key))
        return gone

    def wake(self) -> None:
        pass

    async def close(self) -> None:
        pass


def _write(path: Path, data: bytes) -> None:
    """As the driver process writes a retrieve (FileSink), so its refusals are the real ones."""
    from gridtui.services.memory.io import FileSink

    sink = FileSink(path, wait=False)
    try:
        sink.write(data)
        sink.commit()
    finally:
        sink.discard()


def attach_memory(backend: Backend, memory: FakeMemory) -> FakeMemory:
    backend.attach_memory(cast(ConsoleMemory, memory))
    return memory
