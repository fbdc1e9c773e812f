"""MemoryShard: one detached actor per node, the owner of that node's stored chunks."""

from __future__ import annotations

import pickle
import threading
import time
import uuid
import zlib
from collections import deque
from typing import Any

import ray

SHARD_PREFIX = "gridtui-memory-shard-"


def shard_name(node_id: str) -> str:
    """Named by Ray node id: a restarted raylet is a new node with an empty store."""
    return SHARD_PREFIX + node_id


class _Held:
    __slots__ = ("chunks", "created", "force", "key", "last_read", "meta", "sealed", "size")

    def __init__(self, key: str, size: int | None, created: float, force: bool) -> None:
        self.key = key
        self.size = size
        self.created = created
        self.force = force
        # index -> (ref, size, check): the storing client's XXH3-128 of the chunk, opaque
        # here (nodes have only Python and Ray); its readers check it.
        self.chunks: dict[int, tuple[Any, int, int]] = {}
        self.sealed = False
        self.meta: dict[str, Any] = {}
        self.last_read = created

    def staged(self) -> int:
        return sum(size for _, size, _ in self.chunks.values())


class MemoryShard:
    """Chunks live as Ray objects this actor put itself, so they sit in this node's object
    store and are owned here: they outlive the client that sent them and die with the node.

    Run as a threaded actor: a chunk's checksum and copy overlap the next one's arrival."""

    def __init__(self, node_id: str, node_name: str) -> None:
        self.node_id = node_id
        self.node_name = node_name
        self.incarnation = uuid.uuid4().hex
        self._lock = threading.Lock()
        self._held: dict[str, _Held] = {}
        # Dropped transactions refuse late chunks (a client that outlived its lease).
        self._dropped: deque[str] = deque(maxlen=4096)

    def ping(self) -> dict[str, Any]:
        return {
            "incarnation": self.incarnation,
            "node_id": self.node_id,
            "node_name": self.node_name,
            "actual_node_id": ray.get_runtime_context().get_node_id(),
        }

    def open(
        self,
        txid: str,
        key: str,
        size: int | None,
        created: float,
        force: bool,
        again: bool = False,
    ) -> str:
        """Start staging `txid`; `again`: a move brings back a version this shard held
        and dropped before (it left this node once), so it is not a late chunk."""
        with self._lock:
            if again and txid in self._dropped:
                self._dropped.remove(txid)
            if txid in self._dropped:
                raise ValueError(f"transaction {txid} was already aborted")
            self._held.setdefault(txid, _Held(key, size, created, force))
        return self.incarnation

    def put_chunk(
        self, txid: str, index: int, data: Any, check: int, crc: int | None = None
    ) -> int:
        """Keep one chunk (a zero-copy view of the argument, copied once into an object
        this actor owns) with the client's check of it, which this shard does not take:
        the client's reader checks every chunk before a byte is written. A move passes
        `crc`, the crc32 the source shard took of its copy (a stdlib check: a node has
        only Python and Ray), and the chunk is checked as it lands: no reader is there to
        notice a bad copy before the source is dropped."""
        view = memoryview(data)
        if crc is not None and zlib.crc32(view) != crc:
            raise ValueError(f"chunk {index} does not match its checksum on {self.node_name}")
        with self._lock:
            held = self._held.get(txid)
            if held is None or held.sealed:
                raise ValueError("the store was aborted by the cluster (its lease ran out)")
        ref = ray.put(pickle.PickleBuffer(view))
        with self._lock:
            held = self._held.get(txid)
            if held is None:  # dropped while the copy was made
                raise ValueError("the store was aborted by the cluster (its lease ran out)")
            held.chunks[index] = (ref, len(view), check)
        return len(view)

    def seal(self, txid: str, meta: dict[str, Any]) -> int:
        """Check every chunk is here as the client hashed it, then hold the version as
        complete: from now on the shard alone can tell the index it exists."""
        with self._lock:
            held = self._held.get(txid)
            if held is None:
                raise ValueError("the store was aborted by the cluster (its lease ran out)")
            expected = [list(c) for c in meta["chunks"]]
            have = [[held.chunks[i][1], held.chunks[i][2]] for i in sorted(held.chunks)]
            if sorted(held.chunks) != list(range(len(expected))) or have != expected:
                raise ValueError(
                    f"{self.node_name} holds {len(held.chunks)} of {len(expected)} chunks"
                )
            held.sealed = True
            held.meta = dict(meta)
            held.created = float(meta["created"])
            held.last_read = held.created
            return held.staged()

    def drop(self, txid: str) -> int:
        with self._lock:
            self._dropped.append(txid)
            held = self._held.pop(txid, None)
        return held.staged() if held is not None else 0

    def refs(self, txid: str) -> list[Any]:
        """The chunks' object refs, in order: the reader pulls them straight from this
        node's store."""
        with self._lock:
            held = self._held.get(txid)
            if held is None or not held.sealed:
                raise ValueError(f"{self.node_name} no longer holds this object")
            held.last_read = time.time()
            return [held.chunks[i][0] for i in sorted(held.chunks)]

    def crc(self, txid: str, index: int) -> int:
        """The crc32 of one chunk as this shard holds it: what a move's target checks its
        copy against (passed as the argument's ref, so each is taken as it is needed)."""
        with self._lock:
            held = self._held.get(txid)
            if held is None or not held.sealed:
                raise ValueError(f"{self.node_name} no longer holds this object")
            ref = held.chunks[index][0]
        return zlib.crc32(memoryview(ray.get(ref)))

    def describe(self) -> dict[str, Any]:
        """Everything the shard holds, sealed or staged: what an index is rebuilt from."""
        with self._lock:
            objects = [
                {
                    "txid": txid,
                    "key": h.key,
                    "size": h.meta.get("size", h.size),
                    "sha256": h.meta.get("sha256", ""),
                    "chunks": h.meta.get("chunks", []),
                    "replicas": h.meta.get("replicas", 1),
                    "created": h.created,
                    "last_read": h.last_read,
                    "sealed": h.sealed,
                    "force": h.force,
                    "staged": h.staged(),
                    "count": len(h.chunks),
                }
                for txid, h in self._held.items()
            ]
        return {
            "node_id": self.node_id,
            "node_name": self.node_name,
            "incarnation": self.incarnation,
            "objects": objects,
        }
