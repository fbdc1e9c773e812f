"""The memory index's records: nodes, versions and transactions, and its refusal."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class Refused(Exception):
    """A request the index turns down; its message is the one line the user sees, its
    `kind` what the REST API answers with (unknown: 404, exists: 409, else refused)."""

    def __init__(self, message: str, kind: str = "refused") -> None:
        super().__init__(message)
        self.kind = kind


def human(n: float) -> str:
    """Bytes for people (the index formats its own refusals: it ships without gridtui)."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover - the loop always returns


@dataclass
class Node:
    node_id: str
    name: str
    capacity: int
    alive: bool = True
    draining: bool = False  # Ray drains it: nothing new is stored there


@dataclass
class Version:
    """One complete object: what a key names once its store commits."""

    txid: str
    key: str
    size: int
    sha256: str
    chunks: list[list[int]]  # [size, crc32] per chunk, in order
    created: float
    last_read: float
    nodes: dict[str, str]  # node id -> node name, replicas that still exist
    replicas: int  # how many were stored
    lost: dict[str, str] = field(default_factory=dict)  # replicas whose node or shard died

    @property
    def state(self) -> str:
        return "complete" if self.nodes else "lost"

    def to_dict(self) -> dict[str, Any]:
        return {
            "txid": self.txid,
            "key": self.key,
            "size": self.size,
            "sha256": self.sha256,
            "chunks": [list(c) for c in self.chunks],
            "created": self.created,
            "last_read": self.last_read,
            "nodes": dict(self.nodes),
            "lost": dict(self.lost),
            "replicas": self.replicas,
            "state": self.state,
        }


@dataclass
class Txn:
    """A store in progress: chunks staged on `nodes` under `txid`, invisible until commit."""

    txid: str
    key: str
    force: bool
    nodes: dict[str, str]
    reserved: int
    created: float
    lease_until: float
    committing: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "txid": self.txid,
            "key": self.key,
            "force": self.force,
            "nodes": dict(self.nodes),
            "reserved": self.reserved,
            "created": self.created,
            "lease_until": self.lease_until,
            "committing": self.committing,
        }
