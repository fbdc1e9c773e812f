"""The services behind the REST API without Ray, answering as the real ones do: the real
memory index (gridtui/actors/memory_index.py) in this process, the real scheduler and
offload policy model, the console's FakeControl, and one thread standing for Ray's."""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import hashlib
import threading
import zlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from fake_control import FakeControl, lab_offload_events
from recorded import lab_ray_view

from gridtui.actors.memory_index import MemoryIndex, Node, Refused
from gridtui.backend import Backend
from gridtui.model.objects import StoredObject, TransferProgress
from gridtui.model.offload import OffloadPolicy
from gridtui.model.reservations import NodeView, Reservation
from gridtui.model.wire import WireError, encode
from gridtui.model.wire.memory import (
    Abort,
    Began,
    Begin,
    Commit,
    Delete,
    Done,
    Extend,
    Listing,
    ListObjects,
    Lookup,
    MemoryCall,
    Reserved,
    Version,
)
from gridtui.model.work import GroupRow, JobRow, WorkItem, WorkSnapshot
from gridtui.policy.job_request import JobRequest
from gridtui.policy.scheduler import NoPlacement, place
from gridtui.policy.why import Ask, NodeRoom, Why, explain
from gridtui.services.cluster.status import ClusterStatus, NodeRow
from gridtui.services.control.client import BadRequest, NotFound, ReleaseResult
from gridtui.services.control.client import Refused as Turned
from gridtui.services.control.requests import Request
from gridtui.services.memory.client import (
    MemoryService,
    Sink,
    Source,
    Target,
)
from gridtui.services.memory.handles import RayMemory
from gridtui.services.memory.io import ChunkSource

T = TypeVar("T")
R = TypeVar("R")
MiB = 1024**2


class ThreadGateway:
    """The RayGateway's shape: every call runs on one thread of its own, in turn."""

    connected = True
    message = ""

    def __init__(self) -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(1, "fake-ray")

    async def call(self, fn: Callable[[], T], timeout: float | None = None) -> T:
        return await asyncio.wrap_future(self._pool.submit(fn))

    async def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


# -- memory: the real index, bytes kept per transaction --------------------------------------


class IndexMemory:
    """RayMemory's `ask`, answered by a MemoryIndex here as the index's host answers it."""

    def __init__(self, capacity: int = 64 * MiB) -> None:
        self.fraction = 0.5
        self.index = MemoryIndex()
        view = lab_ray_view()
        self.index.set_nodes(
            Node(info.node_id, name, capacity, info.alive) for name, info in view.items()
        )
        self.staged: dict[str, bytearray] = {}  # txid -> the bytes sent so far
        self.stored: dict[str, bytes] = {}  # txid of a committed version -> its bytes
        self._lock = threading.Lock()

    def ask(self, call: MemoryCall[R], *, timeout: float = 60.0) -> R:
        """The host's answer to `call`, through the real codec both ways."""
        with self._lock:
            try:
                got: object = self._answer(call)
            except Refused as exc:
                got = WireError(exc.kind, str(exc))
        return RayMemory.receive(call, encode(got))

    def _answer(self, call: object) -> object:
        index = self.index
        match call:
            case Begin():
                txn = index.begin(call.key, call.size, replicas=call.replicas, node=call.node,
                                  force=call.force)  # fmt: skip
                self.staged[txn.txid] = bytearray()
                return Began(txn.txid, [], txn.reserved, index.lease)
            case Extend():
                return Reserved(index.extend(call.txid, call.total))
            case Commit():
                txn = index.start_commit(call.txid, int(call.meta["size"]))
                old = index.finish_commit(call.txid, call.meta)
                if old is not None:
                    self.stored.pop(old.txid, None)
                self.stored[call.txid] = bytes(self.staged.pop(call.txid))
                return Version(index.objects[txn.key].to_dict())
            case Abort():
                self.staged.pop(call.txid, None)
                return Done(index.drop_txn(call.txid) is not None)
            case Lookup():
                return Version(index.lookup(call.key).to_dict())
            case Delete():
                version = index.delete(call.key)
                self.stored.pop(version.txid, None)
                return Version(version.to_dict())
            case ListObjects():
                return Listing(index.listing(), index.usage(), 0.0)
        raise AssertionError(f"the fake index host does not answer {call!r}")


class IndexStoreJob:
    """StoreJob's steps (begin, one chunk a step, commit), the chunks kept by IndexMemory."""

    def __init__(self, mem: IndexMemory, key: str, source: ChunkSource, node: str | None,
                 replicas: int, force: bool) -> None:  # fmt: skip
        self.mem, self.key, self.source = mem, key, source
        self.node, self.replicas, self.force = node, replicas, force
        self.done = False
        self.txid = ""
        self.reserved = 0
        self.sent = 0
        self.chunks: list[list[int]] = []
        self._sha = hashlib.sha256()

    def begin(self) -> None:
        r = self.mem.ask(Begin(self.key, self.source.size, self.replicas, self.node,
                               self.force, self.mem.fraction))  # fmt: skip
        self.txid, self.reserved = r.txid, r.reserved

    def step(self) -> TransferProgress:
        chunk = self.source.next(0.05)
        if chunk is not None:
            if self.sent + len(chunk) > self.reserved:
                self.reserved = self.mem.ask(Extend(self.txid, self.sent + len(chunk))).reserved
            self.mem.staged[self.txid] += chunk
            self._sha.update(chunk)
            self.chunks.append([len(chunk), zlib.crc32(chunk)])
            self.sent += len(chunk)
        self.done = self.source.eof
        return TransferProgress(self.key, "store", self.sent, self.source.size, 0.0)

    def finish(self) -> StoredObject:
        meta = {"size": self.sent, "sha256": self._sha.hexdigest(), "chunks": self.chunks}
        result = self.mem.ask(Commit(self.txid, meta)).record
        self.source.close()
        return StoredObject.from_index(result)

    def abort(self) -> None:
        self.source.close()
        if self.txid:
            self.mem.ask(Abort(self.txid))


class IndexRetrieveJob:
    """RetrieveJob's steps: look the key up, then one stored chunk a step into the sink."""

    def __init__(self, mem: IndexMemory, key: str, sink: Sink) -> None:
        self.mem, self.key, self.sink = mem, key, sink
        self.done = False
        self.version: dict[str, Any] = {}
        self.offset = 0
        self.i = 0

    def begin(self) -> None:
        self.version = self.mem.ask(Lookup(self.key)).record

    def step(self) -> TransferProgress:
        chunks = self.version["chunks"]
        if self.i < len(chunks):
            size = chunks[self.i][0]
            data = self.mem.stored[self.version["txid"]]
            self.sink.write(memoryview(data)[self.offset : self.offset + size])
            self.offset += size
            self.i += 1
        self.done = self.i >= len(chunks)
        return TransferProgress(self.key, "retrieve", self.offset, self.version["size"], 0.0)

    def finish(self) -> StoredObject:
        self.sink.commit()
        return StoredObject.from_index(self.version)

    def abort(self) -> None:
        self.sink.discard()


class IndexMemoryService(MemoryService):
    """MemoryService with its Ray side replaced by IndexMemory: its own checks, its own
    info/delete/listing code, its own job runner; only the transport of bytes is faked."""

    def __init__(self, chunk_size: int = 64 * 1024) -> None:
        super().__init__(None, chunk_size=chunk_size)
        self.mem = IndexMemory()
        self.ray = self.mem  # type: ignore[assignment]

    def store_job(self, key: str, source: Source, *, node: str | None = None,
                  replicas: int = 1, force: bool = False,
                  size: int | None = None) -> Any:  # fmt: skip
        real = super().store_job(key, source, node=node, replicas=replicas, force=force, size=size)
        return IndexStoreJob(self.mem, key, real.source, node, replicas, force)

    def retrieve_job(self, key: str, target: Target) -> Any:
        real = super().retrieve_job(key, target)
        return IndexRetrieveJob(self.mem, key, real.sink)


# -- the controller's client: placement and the offload engine ------------------------------


def lab_views() -> list[NodeView]:
    out = []
    for name, info in sorted(lab_ray_view().items()):
        out.append(
            NodeView(
                name,
                info.node_id,
                "head" if name == "ws" else "worker",
                "UP" if info.alive else "DOWN",
                info.cpu_total,
                info.cpu_available,
                info.gpu_total,
                info.gpu_available,
                info.memory_total,
                info.memory_available,
            )
        )
    return out


class FakeControlClient:
    """ControlClient's placement and offload calls (on the gateway's thread), answered by
    the real scheduler and the real policy record, as the controller answers them."""

    def __init__(self) -> None:
        self.policy = OffloadPolicy()
        self.stored = False
        self.events = [e.to_record() for e in lab_offload_events()]

    def place(self, need: Mapping[str, float], strategy: str = "best-fit",
              metrics: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, str]:  # fmt: skip
        views = lab_views()
        try:
            chosen = place(views, need, strategy)
        except NoPlacement as exc:
            raise Turned(str(exc)) from None
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        node = chosen.bundles[0][0]
        node_id = next(v.node_id for v in views if v.name == node)
        return {"node": node, "node_id": node_id, "reason": chosen.reason}

    def offload_status(self) -> dict[str, Any]:
        return {**self.policy.to_record(), "stored": self.stored, "fenced": [], "live": {}}

    def offload_set(self, policy: OffloadPolicy, scopes: Mapping[str, str]) -> dict[str, Any]:
        try:
            self.policy = OffloadPolicy.from_record(policy.to_record())
        except (ValueError, TypeError, KeyError) as exc:
            raise BadRequest(str(exc)) from None
        self.stored = True
        return self.offload_status()

    def offload_events(self, since: int = 0) -> dict[str, Any]:
        seq = max((int(e["seq"]) for e in self.events), default=0)
        return {"seq": seq, "events": [e for e in self.events if int(e["seq"]) > since]}


class LabControl(FakeControl):
    """FakeControl where the controller would refuse: an unknown id is 404, a dead node
    or more than is free is refused, and a released reservation stays in the history."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = FakeControlClient()
        self.released: list[Reservation] = []

    async def boost(self, node: str, req: Request, *, timeout: float = 30.0,
                    waiting: Any = None) -> Reservation:  # fmt: skip
        view = next(v for v in lab_views() if v.name == node)
        rtype = req.type
        req_free = view.free(rtype) if rtype in ("cpu", "gpu", "memory") else 0.0
        if view.state != "UP":
            raise Turned(f"node {node!r} is DOWN: no boost can be placed there")
        r = await super().boost(node, req, timeout=timeout)
        if r.amount > req_free:
            self.publish(tuple(x for x in self.snapshot.reservations if x.id != r.id))
            raise Turned(f"not enough {rtype} free on {node}")
        return r

    async def share(self, req: Request, strategy: str = "best-fit", *, timeout: float = 30.0,
                    waiting: Any = None) -> Reservation:  # fmt: skip
        r = await super().share(req, strategy, timeout=timeout)
        if r.amount > sum(v.free(r.type) for v in lab_views() if v.state == "UP"):
            self.publish(tuple(x for x in self.snapshot.reservations if x.id != r.id))
            raise Turned(f"not enough {req.type} free in the cluster")
        return r

    async def release(self, rid: str) -> ReleaseResult:
        gone = next((r for r in self.released if r.id == rid), None)
        if gone is not None:
            return ReleaseResult(gone, already=True)
        if rid not in {r.id for r in self.snapshot.reservations}:
            raise NotFound(f"no reservation {rid!r}")
        result = await super().release(rid)
        self.released.append(result.reservation)
        return result

    async def refresh(self) -> Any:
        snap = await super().refresh()
        return dataclasses.replace(snap, history=tuple(self.released))


def lab_status() -> ClusterStatus:
    rows = []
    for name, info in lab_ray_view().items():
        rows.append(
            NodeRow(
                name,
                f"{name}.lab",
                "head" if name == "ws" else "worker",
                info.alive,
                "" if info.alive else "timeout",
                3 if info.alive else None,
                None,
                "ALIVE" if info.alive else "DEAD",
                node_id=info.node_id,
                cpu_total=info.cpu_total,
                cpu_available=info.cpu_available,
            )
        )
    return ClusterStatus("lab", tuple(rows))


class StatusOps:
    """ClusterOps' `status` over the recorded lab (no SSH to the lab's addresses)."""

    def __init__(self, progress: Any = None) -> None:
        self.progress = progress

    async def status(self, timeout: float = 20.0) -> ClusterStatus:
        await asyncio.sleep(0)
        return lab_status()


def serve_lab(backend: Backend) -> LabControl:
    """Every service the API reaches, on `backend` (recorded lab data with Ray's view)."""
    from fake_control import attach, lab_reservations

    control = LabControl(lab_reservations())
    attach(backend, control)
    backend.gateway = ThreadGateway()  # type: ignore[assignment]
    backend._memory = IndexMemoryService()
    backend.ops_factory = StatusOps  # type: ignore[assignment]
    backend._work = LabWork(backend)  # type: ignore[assignment]
    return control


# -- work: Ray Jobs, actors, groups, why over the lab's recorded nodes -----------------------


class LabWork:
    """WorkService's calls over the lab: jobs kept here, placed as Ray would (a job that fits
    a node runs, else it waits), `why` answered by the real policy from the lab's figures."""

    def __init__(self, backend: Backend) -> None:
        self.config = backend.config
        self.jobs_: dict[str, JobRow] = {}
        self.logs_: dict[str, str] = {}
        self.n = 0

    def _rooms(self) -> tuple[NodeRoom, ...]:
        out = []
        for v in lab_views():
            total = {"CPU": v.cpu_total, "GPU": v.gpu_total, "memory": v.mem_total}
            free = {"CPU": v.cpu_free, "GPU": v.gpu_free, "memory": v.mem_free}
            out.append(NodeRoom(v.name, "", v.state == "UP", total, free))
        return tuple(out)

    async def jobs(self) -> list[JobRow]:
        await asyncio.sleep(0)
        return list(self.jobs_.values())

    async def job(self, jid: str) -> JobRow:
        await asyncio.sleep(0)
        if jid not in self.jobs_:
            raise NotFound(f"no job {jid!r} in Ray's job table")
        return self.jobs_[jid]

    async def submit_request(
        self, request: JobRequest, *, owner: str, timeout: float = 60.0, sid: str = ""
    ) -> JobRow:
        await asyncio.sleep(0)
        if request.boost is not None:
            raise NotFound(f"no boost {request.boost!r} (see `gridtui boost status`)")
        self.n += 1
        jid = sid or f"gridtui-lab{self.n:04d}"
        need = {k: v for k, v in (("CPU", request.cpu), ("GPU", request.gpu),
                                  ("memory", float(request.memory or 0))) if v}  # fmt: skip
        ask = Ask(jid, "job", "PENDING", (need,))
        why = explain(ask, self._rooms())
        fits = [v.node for v in why.nodes if v.fits_now and (request.node in (None, v.node))]
        node = request.node or (fits[0] if fits else "")
        status = "RUNNING" if fits else "PENDING"
        row = JobRow(jid, status, request.entrypoint, node if fits else "", need,
                     start=1.0, owner=owner)  # fmt: skip
        self.jobs_[jid] = row
        self.logs_[jid] = f"Running entrypoint for job {jid}: {request.entrypoint}\nhello\n"
        return row

    async def stop_job(self, jid: str) -> tuple[JobRow, bool]:
        job = await self.job(jid)
        if job.terminal:
            return job, False
        self.jobs_[jid] = job.replace(status="STOPPED", end=2.0)
        return self.jobs_[jid], True

    async def stop_and_forget(self, jid: str) -> tuple[JobRow, bool]:
        job, stopped = await self.stop_job(jid)
        del self.jobs_[jid]
        return job, stopped

    async def logs(self, jid: str) -> str:
        await self.job(jid)
        return self.logs_[jid]

    def follow(self, job: JobRow, stop: threading.Event) -> Iterator[str]:
        # The lab's jobs print their lines at once, then (for the stream) end.
        yield from self.logs_[job.id].splitlines(keepends=True)

    async def snapshot_now(self, node: str | None = None) -> WorkSnapshot:
        await asyncio.sleep(0)
        items = tuple(
            WorkItem("job", f"sup{j.id}", j.id, j.node, "ALIVE")
            for j in self.jobs_.values()
            if j.status == "RUNNING" and node in (None, j.node)
        )
        pending = {j.id: explain(Ask(j.id, "job", "PENDING", (dict(j.resources),)),
                                 self._rooms()).summary
                   for j in self.jobs_.values() if j.pending}  # fmt: skip
        return WorkSnapshot(
            time=1.0, connected=True, jobs=tuple(self.jobs_.values()), items=items,
            nodes=tuple(n.name for n in self.config.nodes), pending=pending,
        )  # fmt: skip

    async def why(self, wanted: str) -> Why:
        job = await self.job(wanted)
        return explain(Ask(job.id, "job", job.status, (dict(job.resources),), where=job.node),
                       self._rooms())  # fmt: skip

    async def groups(self, *, orphans: bool = False) -> list[GroupRow]:
        await asyncio.sleep(0)
        return []

    async def close(self) -> None:
        await asyncio.sleep(0)
