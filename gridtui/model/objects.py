"""Stored objects of the memory store as the CLI, the API and the console see them."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gridtui.model.feed import NOT_YET, FeedKey

# Keys are shown in tables, typed on command lines and used in file names by scripts:
# 1 to 200 of letters, digits and . _ - / : @ + =, starting with a letter or a digit.
KEY_MAX = 200
KEY_CHARS = "letters, digits and . _ - / : @ + ="
_KEY_RE = re.compile(r"[A-Za-z0-9._/:@+=-]*")


def key_problem(key: str) -> str | None:
    """Why `key` cannot name an object, or None when it can."""
    if not key:
        return "a key cannot be empty"
    if len(key) > KEY_MAX:
        return f"a key is at most {KEY_MAX} characters (this one has {len(key)})"
    bad = list(dict.fromkeys(c for c in key if not _KEY_RE.fullmatch(c)))
    if bad:
        shown = " ".join(repr(c) for c in bad[:5])
        return f"key {key!r} has characters outside {KEY_CHARS}: {shown}"
    if not key[0].isalnum() or not key[0].isascii():
        return f"key {key!r} must start with a letter or a digit"
    return None


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover - the loop always returns


def human_age(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f}m"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


@dataclass(frozen=True)
class StoredObject:
    """One key's object: `nodes` hold a replica now; `lost_nodes` held one and died."""

    key: str
    size: int
    sha256: str
    chunks: int
    nodes: tuple[str, ...]
    replicas: int
    created: float
    last_read: float
    state: str  # "complete" | "lost"
    lost_nodes: tuple[str, ...] = ()

    @classmethod
    def from_index(cls, data: Mapping[str, Any]) -> StoredObject:
        return cls(
            key=str(data["key"]),
            size=int(data["size"]),
            sha256=str(data["sha256"]),
            chunks=len(data.get("chunks", ())),
            nodes=tuple(sorted(data.get("nodes", {}).values())),
            replicas=int(data.get("replicas", 1)),
            created=float(data["created"]),
            last_read=float(data.get("last_read", data["created"])),
            state=str(data.get("state", "complete")),
            lost_nodes=tuple(sorted(data.get("lost", {}).values())),
        )

    def age(self, now: float | None = None) -> float:
        return (time.time() if now is None else now) - self.created

    def to_json(self, now: float | None = None) -> dict[str, Any]:
        return {
            "key": self.key,
            "size": self.size,
            "sha256": self.sha256,
            "chunks": self.chunks,
            "nodes": list(self.nodes),
            "replicas": self.replicas,
            "lost_nodes": list(self.lost_nodes),
            "created": self.created,
            "last_read": self.last_read,
            "age_seconds": round(self.age(now), 1),
            "state": self.state,
        }


@dataclass(frozen=True)
class ShardUsage:
    """One node's share of the memory store against its capacity."""

    node: str
    node_id: str
    alive: bool
    capacity: int
    used: int
    reserved: int
    objects: int

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.used - self.reserved)

    @classmethod
    def from_index(cls, data: Mapping[str, Any]) -> ShardUsage:
        return cls(
            node=str(data["node"]),
            node_id=str(data["node_id"]),
            alive=bool(data["alive"]),
            capacity=int(data["capacity"]),
            used=int(data["used"]),
            reserved=int(data["reserved"]),
            objects=int(data["objects"]),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "alive": self.alive,
            "capacity": self.capacity,
            "used": self.used,
            "reserved": self.reserved,
            "free": self.free,
            "objects": self.objects,
        }


@dataclass(frozen=True)
class MemorySnapshot:
    """What the Memory objects pane renders: every object and every node's use."""

    objects: tuple[StoredObject, ...]
    usage: tuple[ShardUsage, ...]
    taken: float
    message: str = ""
    """Why the listing is empty or old (Ray not connected, nothing ever stored), if it is."""

    def stored_on(self, node: str) -> int:
        """Bytes stored on a node (the Nodes table's "stored" figure)."""
        return next((u.used for u in self.usage if u.node == node), 0)


@dataclass(frozen=True)
class TransferProgress:
    """A store or retrieve under way; `total` is None for a store from a stream."""

    key: str
    direction: str  # "store" | "retrieve"
    done: int
    total: int | None
    elapsed: float

    @property
    def rate(self) -> float:
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def fraction(self) -> float | None:
        if self.total is None:
            return None
        return 1.0 if self.total == 0 else min(1.0, self.done / self.total)


MEMORY: FeedKey[MemorySnapshot] = FeedKey(
    "memory", lambda: MemorySnapshot((), (), time.time(), message=NOT_YET)
)
"""The memory store's objects and each node's use."""
