"""Chunked, pipelined stores and retrieves, as jobs of short steps any thread can drive."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import pickle
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from xxhash import xxh3_128_intdigest as chunk_check

from gridtui.model.objects import StoredObject, TransferProgress
from gridtui.model.wire.memory import Abort, Begin, Check, Commit, Extend, Lookup, Renew
from gridtui.services.memory.handles import (
    CALL_TIMEOUT,
    ChecksumMismatch,
    MemoryRefused,
    ObjectLost,
    RayMemory,
    TransferCancelled,
    reason,
)
from gridtui.services.memory.io import ChunkSource, Sink
from gridtui.services.waits import raise_if_cancelled

T = TypeVar("T")
# A few MiB per message: large enough that Ray's per-call cost is noise, small enough that
# a window of them in flight is a small slice of a node's object store.
CHUNK_SIZE = 4 * 1024**2
WINDOW = 8
IDLE_WAIT = 0.25
"""Seconds a store's step waits on a stream that has nothing to send and nothing in
flight: each step is a call from the console (bench/overlays.py: at 50 ms, 20 calls a
second while a pipe's writer is quiet); a cancel waits for the step at most this long."""
# How long a chunk may take to arrive before the reader tries another replica.
CHUNK_TIMEOUT = 30.0

Call = Callable[[Callable[[], Any], float], Awaitable[Any]]
ProgressFn = Callable[[TransferProgress], None]


class Job(Protocol):
    done: bool

    def begin(self) -> None: ...
    def step(self) -> TransferProgress: ...
    def finish(self) -> StoredObject: ...
    def abort(self) -> None: ...


class StoreJob:
    """Stage chunks on every replica's shard under a transaction, then commit it.

    Each step sends at most one chunk and reaps acknowledgements, so a step is short
    (milliseconds) and the thread running it stays free for other calls in between."""

    def __init__(
        self,
        ray_mem: RayMemory,
        key: str,
        source: ChunkSource,
        *,
        node: str | None = None,
        replicas: int = 1,
        force: bool = False,
        window: int = WINDOW,
    ) -> None:
        self.ray_mem, self.key, self.source = ray_mem, key, source
        self.node, self.replicas, self.force, self.window = node, replicas, force, window
        self.done = False
        self.txid = ""
        self.committed = False
        self.sent = 0
        self.acked = 0
        self.chunks: list[list[int]] = []
        self._sha = hashlib.sha256()
        self._inflight: deque[tuple[int, list[Any]]] = deque()
        self._targets: list[tuple[str, Any]] = []
        self._reserved = 0
        self._lease = 6.0
        self._renewed = 0.0
        self._renewal: Any = None
        self._hasher: concurrent.futures.ThreadPoolExecutor | None = None
        self._started = time.monotonic()

    def begin(self) -> None:
        r = self.ray_mem.ask(
            Begin(self.key, self.source.size, self.replicas, self.node, self.force,
                  self.ray_mem.fraction)
        )  # fmt: skip
        self.txid, self._reserved, self._lease = r.txid, r.reserved, r.lease
        self._targets = [(t["node"], self.ray_mem.shard(t["shard"])) for t in r.nodes]
        self._renewed = self._started = time.monotonic()

    @property
    def nodes(self) -> list[str]:
        return [name for name, _ in self._targets]

    def progress(self) -> TransferProgress:
        return TransferProgress(
            self.key, "store", self.acked, self.source.size, time.monotonic() - self._started
        )

    def _renew(self) -> None:
        import ray

        if time.monotonic() - self._renewed < self._lease / 5:
            return
        fresh = False
        if self._renewal is not None:
            ready, _ = ray.wait([self._renewal], timeout=0)
            if ready:
                try:
                    alive = self.ray_mem.receive(Renew(self.txid), ray.get(ready[0])).ok
                except ray.exceptions.RayActorError:
                    # The index host restarted: its successor rebuilt this transaction
                    # from the shards and takes the renewals from now on.
                    alive, fresh = True, True
                if not alive:
                    raise MemoryRefused(
                        f"store of {self.key!r} aborted by the cluster (its lease ran out)"
                    )
        self._renewal = self.ray_mem.send(Renew(self.txid), fresh)
        self._renewed = time.monotonic()

    def step(self) -> TransferProgress:
        import ray

        self._renew()
        room = len(self._inflight) < self.window
        if room and not self.source.eof:
            chunk = self.source.next(0.05 if self._inflight else IDLE_WAIT)
            if chunk is not None:
                self._send(chunk)
        if self._inflight:
            wait = 0.0 if (room and not self.source.eof) else 0.05
            ray.wait(self._inflight[0][1], num_returns=len(self._inflight[0][1]), timeout=wait)
            while self._inflight:
                size, acks = self._inflight[0]
                ready, _ = ray.wait(acks, num_returns=len(acks), timeout=0)
                if len(ready) < len(acks):
                    break
                try:
                    ray.get(acks)
                except ray.exceptions.RayError as exc:
                    raise MemoryRefused(f"store of {self.key!r} failed: {reason(exc)}") from None
                self._inflight.popleft()
                self.acked += size
        self.done = self.source.eof and not self._inflight
        return self.progress()

    def _send(self, chunk: memoryview) -> None:
        import ray

        n = len(chunk)
        if self.sent + n > self._reserved:
            self._reserved = self.ray_mem.ask(Extend(self.txid, self.sent + n)).reserved
        # The object's sha256 runs on another thread (hashlib lets go of the GIL) while
        # this one takes the chunk's check (XXH3-128, several GB/s) and copies it into the
        # object store; both are done before the buffer is read into again.
        if self._hasher is None:
            self._hasher = concurrent.futures.ThreadPoolExecutor(1, "gridtui-sha256")
        hashing = self._hasher.submit(self._sha.update, chunk)
        try:
            check = chunk_check(chunk)
            ref = ray.put(pickle.PickleBuffer(chunk))
        finally:
            hashing.result()
        index = len(self.chunks)
        acks = [shard.put_chunk.remote(self.txid, index, ref, check) for _, shard in self._targets]
        self._inflight.append((n, acks))
        self.chunks.append([n, check])
        self.sent += n

    def _close(self) -> None:
        self.source.close()
        if self._hasher is not None:
            self._hasher.shutdown()

    def finish(self) -> StoredObject:
        meta = {"size": self.sent, "sha256": self._sha.hexdigest(), "chunks": self.chunks}
        result = self.ray_mem.ask(Commit(self.txid, meta), timeout=CALL_TIMEOUT * 2).record
        self.committed = True
        self._close()
        return StoredObject.from_index(result)

    def abort(self) -> None:
        """Drop every staged chunk now (the lease would, a few seconds later)."""
        self._close()
        if self.txid and not self.committed:
            import ray

            with contextlib.suppress(Exception):
                ray.get(self.ray_mem.send(Abort(self.txid)), timeout=20)


class RetrieveJob:
    """Pull a version's chunks straight from a replica's node store, a window of them in
    flight; check each chunk (its size and XXH3-128, as the storing client took them, in
    order) before it is written: every byte of the object is checked that way, so no
    whole-object sha256 is taken again (the stored one is what users compare with). A
    replica that fails or returns a damaged chunk hands over to the next one."""

    def __init__(self, ray_mem: RayMemory, key: str, sink: Sink, *, window: int = WINDOW) -> None:
        self.ray_mem, self.key, self.sink, self.window = ray_mem, key, sink, window
        self.done = False
        self.version: dict[str, Any] = {}
        self.written = 0
        self._index = 0
        self._offset = 0
        self._pending: deque[tuple[int, concurrent.futures.Future[Any], float]] = deque()
        self._replicas: list[tuple[str, str]] = []
        self._refs: list[Any] = []
        self._node = ""
        self._failures: list[str] = []
        self._started = time.monotonic()

    def begin(self) -> None:
        self.version = self.ray_mem.ask(Lookup(self.key)).record
        if self.version["state"] == "lost":
            raise ObjectLost(self._lost_message(self.version))
        local = self.ray_mem.node_id()
        nodes = sorted(self.version["nodes"].items(), key=lambda item: item[0] != local)
        self._replicas = nodes
        self._started = time.monotonic()
        self._next_replica()

    def _lost_message(self, version: dict[str, Any]) -> str:
        gone = sorted(version.get("lost", {}).values()) or ["an unknown node"]
        if len(gone) == 1:
            return f"{self.key!r} is lost: its only replica was on {gone[0]}, which is gone"
        return f"{self.key!r} is lost: its replicas on {', '.join(gone)} are all gone"

    def _next_replica(self) -> None:
        import ray

        from gridtui.actors.memory_shard import shard_name

        self._pending.clear()
        while self._replicas:
            node_id, name = self._replicas.pop(0)
            try:
                shard = self.ray_mem.shard(shard_name(node_id))
                self._refs = ray.get(shard.refs.remote(self.version["txid"]), timeout=CALL_TIMEOUT)
                self._node = name
                return
            except (ray.exceptions.RayError, ValueError) as exc:
                self._failures.append(f"{name}: {reason(exc)}")
        self._give_up()

    def _give_up(self) -> None:
        checked = self.ray_mem.ask(Check())
        now = next((o for o in checked.objects if o["key"] == self.key), None)
        if now is not None and now["state"] == "lost":
            raise ObjectLost(self._lost_message(now))
        raise MemoryRefused(f"cannot retrieve {self.key!r}: " + "; ".join(self._failures))

    def progress(self) -> TransferProgress:
        return TransferProgress(
            self.key, "retrieve", self.written, int(self.version.get("size", 0)),
            time.monotonic() - self._started,
        )  # fmt: skip

    def step(self) -> TransferProgress:
        chunks = self.version["chunks"]
        if self._index >= len(chunks):
            self.done = True
            return self.progress()
        while len(self._pending) < self.window:
            i = self._index + len(self._pending)
            if i >= len(chunks):
                break
            self._pending.append((i, self._refs[i].future(), time.monotonic()))
        i, future, since = self._pending[0]
        try:
            value = future.result(timeout=0.05)
        except concurrent.futures.TimeoutError:
            if time.monotonic() - since > CHUNK_TIMEOUT:
                self._failures.append(f"{self._node}: chunk {i} did not arrive")
                self._next_replica()
            return self.progress()
        except Exception as exc:
            self._failures.append(f"{self._node}: {reason(exc)}")
            self._next_replica()
            return self.progress()
        view = memoryview(value).cast("B")
        size, check = chunks[i]
        if len(view) != size or chunk_check(view) != check:
            del view, value
            self._failures.append(self._damage(i, size))
            if not self._replicas:
                raise ChecksumMismatch(
                    f"cannot retrieve {self.key!r}: " + "; ".join(self._failures)
                )
            self._next_replica()
            return self.progress()
        self.sink.write(view)
        del view, value
        self._pending.popleft()
        self._index += 1
        self._offset += size
        self.written += size
        self.done = self._index >= len(chunks)
        return self.progress()

    def _damage(self, i: int, size: int) -> str:
        n = len(self.version["chunks"])
        span = f"bytes {self._offset}-{self._offset + size - 1}"
        return (
            f"chunk {i + 1} of {n} ({span}) on {self._node} does not match its checksum "
            "(the stored copy is damaged)"
        )

    def finish(self) -> StoredObject:
        if self._index != len(self.version["chunks"]):
            raise ChecksumMismatch(f"{self.key!r}: the retrieve ended before its last chunk")
        self.sink.commit()
        return StoredObject.from_index(self.version)

    def abort(self) -> None:
        self._pending.clear()
        self.sink.discard()


def run(
    job: Job,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> StoredObject:
    """Drive a job to the end on this thread; on any failure or interrupt (KeyboardInterrupt
    included) or when `cancel` is set, abort it so nothing is left behind."""
    try:
        job.begin()
        while not job.done:
            if cancel is not None and cancel.is_set():
                raise TransferCancelled("cancelled; nothing was left behind")
            p = job.step()
            if progress is not None:
                progress(p)
        return job.finish()
    except BaseException:
        job.abort()
        raise


async def run_async(
    job: Job,
    call: Call,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> StoredObject:
    """The same, each step a call through `call` (the console's RayGateway.call); cancelling
    the awaiting task, or setting `cancel` (from any thread: it is read between steps, so
    within a step: milliseconds, IDLE_WAIT while a stream is quiet), aborts the job.
    `progress` runs on the caller's loop."""

    def check() -> None:
        raise_if_cancelled()
        if cancel is not None and cancel.is_set():
            raise TransferCancelled("cancelled; nothing was left behind")

    try:
        check()
        await call(job.begin, CALL_TIMEOUT * 2)
        while not job.done:
            check()
            p = await call(job.step, CALL_TIMEOUT)
            check()
            if progress is not None:
                progress(p)
        check()
        result: StoredObject = await call(job.finish, CALL_TIMEOUT * 3)
        return result
    except BaseException:
        with contextlib.suppress(Exception):
            await asyncio.shield(call(job.abort, 30.0))
        raise
