"""The memory host's protocol: each request MemoryHost answers, and its answer."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from gridtui.model.wire import Call

R = TypeVar("R")
# A stored version or a transaction as the index's own `to_dict()`; StoredObject and
# ShardUsage read them on the caller's side.
Record = dict[str, Any]


# -- answers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Began:
    """A store's transaction: its staging opened on `nodes` ({node_id, node, shard})."""

    txid: str
    nodes: list[dict[str, str]]
    reserved: int
    lease: float


@dataclass(frozen=True)
class Reserved:
    reserved: int


@dataclass(frozen=True)
class Done:
    """Whether it did anything (a renewal of a live transaction, an abort)."""

    ok: bool


@dataclass(frozen=True)
class Version:
    """One stored object's version."""

    record: Record


@dataclass(frozen=True)
class Listing:
    objects: list[Record]
    usage: list[Record]
    now: float


@dataclass(frozen=True)
class Moves:
    """What `evacuate` did: {key, size, from, to, result} per object."""

    moves: list[dict[str, Any]]


@dataclass(frozen=True)
class Transactions:
    txns: list[Record]


# -- requests ------------------------------------------------------------------------------


class MemoryCall(Call[R]):
    def run(self, party: MemoryParty) -> Awaitable[R]:
        raise NotImplementedError


@dataclass(frozen=True)
class Begin(MemoryCall[Began]):
    key: str
    size: int | None
    replicas: int
    node: str | None
    force: bool
    fraction: float

    def run(self, party: MemoryParty) -> Awaitable[Began]:
        return party.begin(self)


@dataclass(frozen=True)
class Extend(MemoryCall[Reserved]):
    txid: str
    total: int

    def run(self, party: MemoryParty) -> Awaitable[Reserved]:
        return party.extend(self)


@dataclass(frozen=True)
class Renew(MemoryCall[Done]):
    txid: str

    def run(self, party: MemoryParty) -> Awaitable[Done]:
        return party.renew(self)


@dataclass(frozen=True)
class Commit(MemoryCall[Version]):
    """Seal with `meta`: size, sha256, chunks ([size, crc32] each)."""

    txid: str
    meta: dict[str, Any]

    def run(self, party: MemoryParty) -> Awaitable[Version]:
        return party.commit(self)


@dataclass(frozen=True)
class Abort(MemoryCall[Done]):
    txid: str

    def run(self, party: MemoryParty) -> Awaitable[Done]:
        return party.abort(self)


@dataclass(frozen=True)
class Lookup(MemoryCall[Version]):
    key: str

    def run(self, party: MemoryParty) -> Awaitable[Version]:
        return party.lookup(self)


@dataclass(frozen=True)
class Delete(MemoryCall[Version]):
    key: str

    def run(self, party: MemoryParty) -> Awaitable[Version]:
        return party.delete(self)


@dataclass(frozen=True)
class ListObjects(MemoryCall[Listing]):
    fraction: float | None = None

    def run(self, party: MemoryParty) -> Awaitable[Listing]:
        return party.listing(self)


@dataclass(frozen=True)
class Check(MemoryCall[Listing]):
    """Look at nodes and shards now (a reader that failed asks before giving up)."""

    def run(self, party: MemoryParty) -> Awaitable[Listing]:
        return party.check(self)


@dataclass(frozen=True)
class Evacuate(MemoryCall[Moves]):
    node: str
    avoid: list[str]

    def run(self, party: MemoryParty) -> Awaitable[Moves]:
        return party.evacuate(self)


@dataclass(frozen=True)
class ListTransactions(MemoryCall[Transactions]):
    def run(self, party: MemoryParty) -> Awaitable[Transactions]:
        return party.transactions(self)


CALLS: tuple[type[MemoryCall[Any]], ...] = (
    Begin, Extend, Renew, Commit, Abort, Lookup, Delete, ListObjects, Check, Evacuate,
    ListTransactions,
)  # fmt: skip


class MemoryParty(Protocol):
    """What the memory host answers: MemoryHost implements it, `run` dispatches to it."""

    async def begin(self, ask: Begin) -> Began: ...
    async def extend(self, ask: Extend) -> Reserved: ...
    async def renew(self, ask: Renew) -> Done: ...
    async def commit(self, ask: Commit) -> Version: ...
    async def abort(self, ask: Abort) -> Done: ...
    async def lookup(self, ask: Lookup) -> Version: ...
    async def delete(self, ask: Delete) -> Version: ...
    async def listing(self, ask: ListObjects) -> Listing: ...
    async def check(self, ask: Check) -> Listing: ...
    async def evacuate(self, ask: Evacuate) -> Moves: ...
    async def transactions(self, ask: ListTransactions) -> Transactions: ...
