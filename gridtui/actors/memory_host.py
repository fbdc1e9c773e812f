"""The memory index's host: a detached actor on the head that runs the two-phase stores."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from typing import Any

import ray
from ray import cloudpickle

from gridtui.actors import memory_index, memory_records, memory_shard, ray_private, registry
from gridtui.actors.memory_index import MemoryIndex, Node, Refused, Txn
from gridtui.actors.memory_shard import MemoryShard
from gridtui.actors.registry import NAMESPACE, SHARD_PREFIX, shard_name
from gridtui.model import wire
from gridtui.model.wire import Wire, WireError, decode, encode
from gridtui.model.wire.memory import (
    CALLS,
    Abort,
    Began,
    Begin,
    Check,
    Commit,
    Delete,
    Done,
    Evacuate,
    Extend,
    Listing,
    ListObjects,
    ListTransactions,
    Lookup,
    MemoryCall,
    Moves,
    Renew,
    Reserved,
    Transactions,
    Version,
)

LABEL_KEY = "gridtui.node"
SWEEP_SECONDS = 1.0
NODES_SECONDS = 2.0
SHARD_TIMEOUT = 20.0
RETIRE_SECONDS = 60.0
"""An index that holds nothing and had no call for this long retires, its shards first:
each is an idle Ray worker process on its node (bench/head_idle.py). The next call starts
the host again (RayMemory.ask), and a store its shards."""

# Nodes have Python and Ray, not gridtui: these modules travel by value with the actors.
for _module in (memory_index, memory_records, memory_shard, ray_private, registry, wire):
    cloudpickle.register_pickle_by_value(_module)
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def node_name(entry: dict[str, Any]) -> str:
    labels = entry.get("Labels") or {}
    return str(labels.get(LABEL_KEY) or entry.get("NodeManagerAddress") or entry["NodeID"][:8])


def refusal(exc: BaseException) -> WireError:
    """The index's refusal with its kind; anything else (a shard's failure) in one line."""
    if isinstance(exc, Refused):
        return WireError(exc.kind, str(exc))
    cause = getattr(exc, "cause", None) or exc
    first = (str(cause).strip().splitlines() or [cause.__class__.__name__])[-1]
    return WireError("failed", first)


def _named(names: list[str]) -> bool:
    """Whether any of these shard names still stands for an actor."""
    for name in names:
        try:
            ray.get_actor(name, NAMESPACE)
        except ValueError:
            continue
        return True
    return False


class MemoryHost:
    """Hosts a MemoryIndex (rebuilt from the shards when this actor starts) and drives the
    shards: open a store's staging on its nodes, seal and commit, drop what is aborted.

    An async actor: index methods run between awaits, so each is atomic; a background
    task sweeps transactions whose client stopped renewing and notices dead nodes."""

    def __init__(self) -> None:
        self.index = MemoryIndex()
        self.fraction = 0.5
        self._ready: asyncio.Event | None = None
        self._loop: asyncio.Task[None] | None = None
        self._shards: dict[str, Any] = {}
        self._incarnations: dict[str, str] = {}
        self._called = time.monotonic()
        self._retiring: asyncio.Future[None] | None = None

    # -- start: rebuild, then keep sweeping -------------------------------------------------

    async def _ensure(self) -> None:
        self._called = time.monotonic()
        if self._retiring is not None:  # it stays: _retire sees this call
            await asyncio.shield(self._retiring)
        if self._ready is None:
            self._ready = asyncio.Event()
            try:
                await self._rebuild()
            finally:
                self._ready.set()
            self._loop = asyncio.get_running_loop().create_task(self._background())
        await self._ready.wait()

    async def _rebuild(self) -> None:
        named = await asyncio.to_thread(ray.util.list_named_actors, True)
        reports: list[dict[str, Any]] = []
        for entry in named:
            if entry["namespace"] != NAMESPACE or not entry["name"].startswith(SHARD_PREFIX):
                continue
            with contextlib.suppress(Exception):
                handle = await asyncio.to_thread(registry.find, entry["name"])
                if handle is None:
                    continue
                described: Any = handle.describe.remote()
                report: dict[str, Any] = await asyncio.wait_for(described, SHARD_TIMEOUT)
                self._shards[report["node_id"]] = handle
                self._incarnations[report["node_id"]] = report["incarnation"]
                reports.append(report)
        self.index, stale = MemoryIndex.rebuild(reports)
        await self._refresh_nodes()
        for node_id, txid in stale:
            await self._drop_on(node_id, txid)

    async def _background(self) -> None:
        last_nodes = time.monotonic()
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            with contextlib.suppress(Exception):
                await self._sweep()
                if not self._holds():  # no node to watch: nothing read while idle
                    if time.monotonic() - self._called >= RETIRE_SECONDS:
                        await self._retire()
                elif time.monotonic() - last_nodes >= NODES_SECONDS:
                    last_nodes = time.monotonic()
                    await self._check_nodes()

    def _holds(self) -> bool:
        return bool(self.index.objects or self.index.txns)

    async def _retire(self) -> None:
        """Kill every shard (each holds nothing) and wait for its name to be free, then
        this actor for good, unless a call came meanwhile (it waited in _ensure)."""
        self._retiring = asyncio.get_running_loop().create_future()
        try:
            handles, self._shards = list(self._shards.values()), {}
            self._incarnations.clear()
            for handle in handles:
                with contextlib.suppress(Exception):
                    ray.kill(handle, no_restart=True)
            names = [shard_name(n) for n in self.index.nodes]
            for _ in range(100):
                if not await asyncio.to_thread(_named, names):
                    break
                await asyncio.sleep(0.1)
            if self._holds() or time.monotonic() - self._called < RETIRE_SECONDS:
                return
            ray.kill(ray.get_runtime_context().current_actor, no_restart=True)
            await asyncio.sleep(SHARD_TIMEOUT)
        finally:
            self._retiring.set_result(None)
            self._retiring = None

    async def _sweep(self) -> None:
        for txn in self.index.expired():
            await self._abort(txn)

    async def _refresh_nodes(self) -> None:
        entries = await asyncio.to_thread(ray.nodes)
        draining = await asyncio.to_thread(ray_private.draining_nodes)
        nodes = []
        for e in entries:
            store = float((e.get("Resources") or {}).get("object_store_memory", 0.0))
            capacity = int(store * self.fraction)
            node_id = e["NodeID"]
            nodes.append(Node(node_id, node_name(e), capacity, e["Alive"], node_id in draining))
        _, doomed = self.index.set_nodes(nodes)
        for txn in doomed:
            await self._abort(txn)

    async def _check_nodes(self) -> None:
        """Nodes Ray declared dead, and shards that died (or were replaced) on live nodes."""
        await self._refresh_nodes()
        placed = {n for v in self.index.objects.values() for n in v.nodes}
        for node_id in placed:
            handle: Any = self._shards.get(node_id)
            try:
                if handle is None:
                    handle = await asyncio.to_thread(registry.find_shard, node_id)
                    if handle is None:
                        raise ValueError(f"no shard on {node_id}")
                    self._shards[node_id] = handle
                info = await asyncio.wait_for(handle.ping.remote(), SHARD_TIMEOUT)
            except (ray.exceptions.RayActorError, ValueError):
                self._forget_shard(node_id)
                continue
            except Exception:
                continue  # slow, not known dead: ask again next time
            if info["incarnation"] != self._incarnations.setdefault(node_id, info["incarnation"]):
                self._forget_shard(node_id)
                self._incarnations[node_id] = info["incarnation"]

    def _forget_shard(self, node_id: str) -> None:
        self._shards.pop(node_id, None)
        self._incarnations.pop(node_id, None)
        self.index.node_gone(node_id)

    # -- shards ----------------------------------------------------------------------------

    def _shard(self, node_id: str, name: str) -> Any:
        handle = self._shards.get(node_id)
        if handle is None:
            handle = self._shards[node_id] = registry.start_shard(MemoryShard, node_id, name)
        return handle

    async def _drop_on(self, node_id: str, txid: str) -> None:
        handle = self._shards.get(node_id)
        if handle is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(handle.drop.remote(txid), SHARD_TIMEOUT)

    async def _abort(self, txn: Txn) -> None:
        self.index.drop_txn(txn.txid)
        await asyncio.gather(*(self._drop_on(n, txn.txid) for n in txn.nodes))

    # -- what clients call: one typed entry (gridtui/model/wire/memory.py) -----------------

    async def call(self, data: Wire) -> Wire:
        """One request of the protocol, answered; a refusal or failure is a WireError."""
        ask: MemoryCall[object] = decode(data, CALLS)
        await self._ensure()
        try:
            return encode(await ask.run(self))
        except Exception as exc:
            return encode(refusal(exc))

    async def begin(self, ask: Begin) -> Began:
        self.fraction = ask.fraction
        await self._refresh_nodes()
        txn = self.index.begin(
            ask.key, ask.size, replicas=ask.replicas, node=ask.node, force=ask.force
        )
        try:
            calls = [
                self._shard(node_id, name).open.remote(
                    txn.txid, ask.key, ask.size, txn.created, ask.force
                )
                for node_id, name in txn.nodes.items()
            ]
            incarnations = await asyncio.wait_for(asyncio.gather(*calls), SHARD_TIMEOUT * 3)
        except Exception:
            await self._abort(txn)
            raise
        for node_id, incarnation in zip(txn.nodes, incarnations, strict=True):
            if self._incarnations.setdefault(node_id, incarnation) != incarnation:
                # A new shard on that node: whatever the old one held is gone.
                self.index.node_gone(node_id)
                self._incarnations[node_id] = incarnation
        nodes = [{"node_id": i, "node": n, "shard": shard_name(i)} for i, n in txn.nodes.items()]
        return Began(txn.txid, nodes, txn.reserved, self.index.lease)

    async def extend(self, ask: Extend) -> Reserved:
        return Reserved(self.index.extend(ask.txid, ask.total))

    async def renew(self, ask: Renew) -> Done:
        return Done(self.index.renew(ask.txid))

    async def commit(self, ask: Commit) -> Version:
        """Seal the chunks on every replica, then switch the key to this version in one
        index step; only then drop the version it replaced."""
        txid = ask.txid
        txn = self.index.start_commit(txid, int(ask.meta["size"]))
        created = time.time()
        meta = {**ask.meta, "created": created, "replicas": len(txn.nodes), "key": txn.key}
        try:
            calls = [self._shard(i, n).seal.remote(txid, meta) for i, n in txn.nodes.items()]
            await asyncio.wait_for(asyncio.gather(*calls), SHARD_TIMEOUT * 3)
        except Exception:
            await self._abort(txn)
            raise
        old = self.index.finish_commit(txid, meta, now=created)
        if old is not None:
            await asyncio.gather(*(self._drop_on(n, old.txid) for n in old.nodes))
        return Version(self.index.objects[txn.key].to_dict())

    async def abort(self, ask: Abort) -> Done:
        txn = self.index.txns.get(ask.txid)
        if txn is None or txn.committing:
            return Done(False)
        await self._abort(txn)
        return Done(True)

    async def lookup(self, ask: Lookup) -> Version:
        return Version(self.index.lookup(ask.key).to_dict())

    async def delete(self, ask: Delete) -> Version:
        version = self.index.delete(ask.key)
        await asyncio.gather(*(self._drop_on(n, version.txid) for n in version.nodes))
        return Version(version.to_dict())

    async def listing(self, ask: ListObjects) -> Listing:
        changed = ask.fraction is not None and ask.fraction != self.fraction
        if ask.fraction is not None:
            self.fraction = ask.fraction
        if changed or not self._holds():  # the loop does not watch the nodes then
            await self._refresh_nodes()
        return Listing(self.index.listing(), self.index.usage(), time.time())

    async def check(self, ask: Check) -> Listing:
        """Look at nodes and shards now (a reader that failed asks before giving up)."""
        await self._sweep()
        await self._check_nodes()
        return await self.listing(ListObjects())

    async def evacuate(self, ask: Evacuate) -> Moves:
        """Move every replica stored on `node` (a name) to other nodes, one object at a
        time, through the shards. `avoid` names nodes that must not receive (fenced or
        drained ones)."""
        await self._refresh_nodes()
        by_name = {n.name: n.node_id for n in self.index.nodes.values()}
        source = by_name.get(ask.node)
        if source is None:
            return Moves([])
        skip = [by_name[n] for n in ask.avoid if n in by_name]
        keys = sorted(k for k, v in self.index.objects.items() if source in v.nodes)
        return Moves([await self._move(key, source, ask.node, skip) for key in keys])

    async def transactions(self, ask: ListTransactions) -> Transactions:
        return Transactions([t.to_dict() for t in self.index.txns.values()])

    async def _move(self, key: str, source: str, name: str, avoid: list[str]) -> dict[str, Any]:
        """Copy one replica shard to shard (the target pulls each chunk straight from the
        source node's store and checks it against the crc32 the source takes of its own
        copy), seal it, switch the index, then drop the source's copy: at every step one
        complete replica set exists."""
        version = self.index.objects[key]
        out: dict[str, Any] = {"key": key, "size": version.size, "from": name, "to": ""}
        try:
            txn = self.index.begin_move(key, source, avoid)
        except Refused as exc:
            return {**out, "result": f"failed: {exc}"}
        target, target_name = next(iter(txn.nodes.items()))
        out["to"] = target_name
        meta = {
            "size": version.size,
            "sha256": version.sha256,
            "chunks": [list(c) for c in version.chunks],
            "created": version.created,
            "replicas": version.replicas,
            "key": key,
        }
        try:
            src = self._shards.get(source)
            if src is None:
                src = self._shards[source] = await asyncio.to_thread(
                    ray.get_actor, shard_name(source), NAMESPACE
                )
            dst = self._shard(target, target_name)
            opened: Any = dst.open.remote(txn.txid, key, version.size, version.created, False, True)
            await asyncio.wait_for(opened, SHARD_TIMEOUT)
            refs = await asyncio.wait_for(src.refs.remote(version.txid), SHARD_TIMEOUT)
            calls = [
                dst.put_chunk.remote(txn.txid, i, ref, int(check), src.crc.remote(version.txid, i))
                for i, (ref, (_, check)) in enumerate(zip(refs, version.chunks, strict=True))
            ]
            await asyncio.wait_for(asyncio.gather(*calls), SHARD_TIMEOUT * 3)
            await asyncio.wait_for(dst.seal.remote(txn.txid, meta), SHARD_TIMEOUT)
        except Exception as exc:
            self.index.drop_txn(txn.txid)
            await self._drop_on(target, txn.txid)
            return {**out, "result": f"failed: {refusal(exc).message}"}
        if not self.index.finish_move(txn.txid, source):
            await self._drop_on(target, txn.txid)
            return {**out, "result": "skipped: deleted or replaced meanwhile"}
        await self._drop_on(source, version.txid)
        return {**out, "result": "done"}
