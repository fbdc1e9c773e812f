"""The memory store's index: versions, replicas, reservations and leases; no Ray calls."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any

from gridtui.actors.memory_records import Node, Refused, Txn, Version, human

__all__ = ["Node", "Refused", "Txn", "Version", "human"]

# A store's client renews its lease about every second; a transaction not renewed for this
# long belongs to a client that is gone (SIGKILL, lost network), and its chunks are swept.
LEASE_SECONDS = 6.0
# What a store of unknown size (stdin) reserves at a time as its data arrives.
GROWTH_STEP = 64 * 1024**2
# A move is driven by the index's own host, not a client that renews: a long lease.
MOVE_LEASE = 600.0


class MemoryIndex:
    """key -> Version, txid -> Txn, node id -> Node. Every method is atomic: the actor that
    hosts the index calls them between its awaits, never across one."""

    def __init__(self, lease: float = LEASE_SECONDS) -> None:
        self.lease = lease
        self.objects: dict[str, Version] = {}
        self.txns: dict[str, Txn] = {}
        self.nodes: dict[str, Node] = {}

    # -- nodes and room ------------------------------------------------------------------

    def set_nodes(self, nodes: Iterable[Node]) -> tuple[list[str], list[Txn]]:
        """Replace the node table; replicas on nodes now dead or gone are lost.

        Returns the keys that lost their last replica and the transactions that staged on
        a dead node (the host aborts them)."""
        self.nodes = {n.node_id: n for n in nodes}
        lost: list[str] = []
        doomed: list[Txn] = []
        for node_id in self._placed_nodes():
            node = self.nodes.get(node_id)
            if node is None or not node.alive:
                keys, txns = self.node_gone(node_id)
                lost += keys
                doomed += txns
        return lost, doomed

    def _placed_nodes(self) -> set[str]:
        ids = {n for v in self.objects.values() for n in v.nodes}
        return ids | {n for t in self.txns.values() for n in t.nodes}

    def node_gone(self, node_id: str) -> tuple[list[str], list[Txn]]:
        """The node's shard and every chunk it held are gone."""
        lost = []
        for version in self.objects.values():
            if node_id in version.nodes:
                version.lost[node_id] = version.nodes.pop(node_id)
                if not version.nodes:
                    lost.append(version.key)
        doomed = [t for t in self.txns.values() if node_id in t.nodes and not t.committing]
        return lost, doomed

    def used(self, node_id: str) -> int:
        return sum(v.size for v in self.objects.values() if node_id in v.nodes)

    def reserved(self, node_id: str) -> int:
        return sum(t.reserved for t in self.txns.values() if node_id in t.nodes)

    def free(self, node_id: str) -> int:
        node = self.nodes.get(node_id)
        if node is None:
            return 0
        return max(0, node.capacity - self.used(node_id) - self.reserved(node_id))

    def _alive(self) -> list[Node]:
        return sorted((n for n in self.nodes.values() if n.alive), key=lambda n: n.name)

    def _room_refusal(self, size: int, replicas: int) -> Refused:
        where = ", ".join(f"{n.name} {human(self.free(n.node_id))}" for n in self._alive())
        copies = f"{replicas} replicas on distinct nodes" if replicas > 1 else "1 replica"
        return Refused(f"not enough room for {human(size)} ({copies}); free: {where}")

    # -- storing -------------------------------------------------------------------------

    def begin(
        self,
        key: str,
        size: int | None,
        *,
        replicas: int = 1,
        node: str | None = None,
        force: bool = False,
        now: float | None = None,
    ) -> Txn:
        """Check a store and reserve its room on `replicas` distinct nodes, or refuse."""
        now = time.time() if now is None else now
        existing = self.objects.get(key)
        if existing is not None and not force:
            raise Refused(
                f"key {key!r} exists ({human(existing.size)}, {existing.state}); "
                "--force replaces it",
                "exists",
            )
        if not force and any(t.key == key for t in self.txns.values()):
            raise Refused(f"key {key!r} is being stored by another client", "exists")
        alive = [n for n in self._alive() if not n.draining]
        names = ", ".join(n.name for n in alive) or "none"
        pinned: Node | None = None
        if node is not None:
            pinned = next((n for n in self.nodes.values() if n.name == node and n.alive), None)
            if pinned is not None and pinned.draining:
                raise Refused(f"{node} is draining: nothing new is stored there")
            if pinned is None:
                raise Refused(f"unknown node {node!r} (alive: {names})")
        if replicas < 1:
            raise Refused("--replicas must be at least 1")
        if replicas > len(alive):
            raise Refused(
                f"--replicas {replicas}: only {len(alive)} nodes are alive ({names}); "
                "replicas go to distinct nodes"
            )
        if size is not None:
            need = size
        else:  # a stream: room for a first stretch of it, grown as it comes
            frees = self._frees([pinned] if pinned is not None else alive)
            need = min(GROWTH_STEP, max(frees, default=0))
        by_room = sorted(alive, key=lambda n: (-self.free(n.node_id), n.name))
        if pinned is not None:
            by_room = [pinned, *(n for n in by_room if n is not pinned)]
        chosen = [n for n in by_room if self.free(n.node_id) >= need][:replicas]
        if len(chosen) < replicas or (pinned is not None and chosen[0] is not pinned):
            raise self._room_refusal(need, replicas)
        txn = Txn(
            txid=uuid.uuid4().hex,
            key=key,
            force=force,
            nodes={n.node_id: n.name for n in chosen},
            reserved=need,
            created=now,
            lease_until=now + self.lease,
        )
        self.txns[txn.txid] = txn
        return txn

    def _frees(self, nodes: Iterable[Node]) -> list[int]:
        return [self.free(n.node_id) for n in nodes]

    def _txn(self, txid: str) -> Txn:
        txn = self.txns.get(txid)
        if txn is None:
            raise Refused("the store was aborted by the cluster (its lease ran out or a node died)")
        return txn

    def extend(self, txid: str, total: int, now: float | None = None) -> int:
        """Grow a transaction's reservation to at least `total` bytes; returns the new one."""
        txn = self._txn(txid)
        if total <= txn.reserved:
            return txn.reserved
        want = max(total, txn.reserved + GROWTH_STEP)
        for node_id in txn.nodes:
            room = self.free(node_id)
            if room < total - txn.reserved:
                raise self._room_refusal(total, len(txn.nodes))
            want = min(want, txn.reserved + room)
        txn.reserved = want
        self.renew(txid, now)
        return want

    def renew(self, txid: str, now: float | None = None) -> bool:
        txn = self.txns.get(txid)
        if txn is None:
            return False
        txn.lease_until = (time.time() if now is None else now) + self.lease
        return True

    def expired(self, now: float | None = None) -> list[Txn]:
        now = time.time() if now is None else now
        return [t for t in self.txns.values() if t.lease_until < now and not t.committing]

    def start_commit(self, txid: str, size: int) -> Txn:
        """Mark a transaction as committing (the sweep leaves it alone) after checking it."""
        txn = self._txn(txid)
        if size > txn.reserved:
            raise Refused(f"the store sent {human(size)}, more than it reserved")
        if not txn.force and txn.key in self.objects:
            raise Refused(f"key {txn.key!r} was stored by another client meanwhile")
        txn.committing = True
        return txn

    def finish_commit(
        self, txid: str, meta: dict[str, Any], now: float | None = None
    ) -> Version | None:
        """Make the version visible under its key in one step; returns the version it
        replaced (whose chunks the host then drops)."""
        now = time.time() if now is None else now
        txn = self.txns.pop(txid)
        version = Version(
            txid=txid,
            key=txn.key,
            size=int(meta["size"]),
            sha256=str(meta["sha256"]),
            chunks=[list(c) for c in meta["chunks"]],
            created=now,
            last_read=now,
            nodes=dict(txn.nodes),
            replicas=len(txn.nodes),
        )
        old = self.objects.get(txn.key)
        self.objects[txn.key] = version
        return old

    # -- moving a replica (spill, drain) -----------------------------------------------

    def begin_move(
        self, key: str, source: str, avoid: Iterable[str] = (), now: float | None = None
    ) -> Txn:
        """Reserve room for one more copy of `key`'s replica on `source` on a node that
        holds none of its replicas (replicas stay on distinct nodes), is alive, is not in
        `avoid` (node ids) and has the most room. The transaction carries the version's
        own txid, so the copy is that version's chunks on a new node."""
        now = time.time() if now is None else now
        version = self.objects.get(key)
        if version is None or source not in version.nodes:
            raise Refused(f"{key!r} has no replica on that node any more")
        if version.txid in self.txns:
            raise Refused(f"{key!r} is being moved already")
        skip = set(avoid) | set(version.nodes) | {source}
        room = [n for n in self._alive() if n.node_id not in skip]
        fits = [n for n in room if self.free(n.node_id) >= version.size]
        if not fits:
            where = ", ".join(f"{n.name} {human(self.free(n.node_id))}" for n in room) or "none"
            raise Refused(
                f"no node has room for {human(version.size)} beside its other replicas "
                f"(free elsewhere: {where})"
            )
        target = max(fits, key=lambda n: (self.free(n.node_id), n.name))
        txn = Txn(
            txid=version.txid,
            key=key,
            force=False,
            nodes={target.node_id: target.name},
            reserved=version.size,
            created=now,
            lease_until=now + MOVE_LEASE,
        )
        self.txns[txn.txid] = txn
        return txn

    def finish_move(self, txid: str, source: str) -> bool:
        """The copy is sealed on its node: it replaces the replica on `source` in one
        step. False when the key was deleted or replaced meanwhile (the copy is then
        dropped by the caller, and so is the source's old one)."""
        txn = self.txns.pop(txid, None)
        if txn is None:
            return False
        version = self.objects.get(txn.key)
        if version is None or version.txid != txid:
            return False
        version.nodes.pop(source, None)
        version.nodes.update(txn.nodes)
        return True

    def drop_txn(self, txid: str) -> Txn | None:
        return self.txns.pop(txid, None)

    # -- reading -------------------------------------------------------------------------

    def lookup(self, key: str, now: float | None = None) -> Version:
        version = self.objects.get(key)
        if version is None:
            raise Refused(f"no object with key {key!r}", "unknown")
        version.last_read = time.time() if now is None else now
        return version

    def delete(self, key: str) -> Version:
        version = self.objects.pop(key, None)
        if version is None:
            raise Refused(f"no object with key {key!r}", "unknown")
        return version

    def listing(self) -> list[dict[str, Any]]:
        return [self.objects[k].to_dict() for k in sorted(self.objects)]

    def usage(self) -> list[dict[str, Any]]:
        """Per node: capacity, committed bytes, bytes reserved by stores in progress."""
        placed = self._placed_nodes()
        out = []
        for node in sorted(self.nodes.values(), key=lambda n: n.name):
            if not node.alive and node.node_id not in placed:
                continue
            out.append(
                {
                    "node_id": node.node_id,
                    "node": node.name,
                    "alive": node.alive,
                    "capacity": node.capacity,
                    "used": self.used(node.node_id),
                    "reserved": self.reserved(node.node_id),
                    "objects": sum(1 for v in self.objects.values() if node.node_id in v.nodes),
                }
            )
        return out

    # -- rebuilding ----------------------------------------------------------------------

    @classmethod
    def rebuild(
        cls,
        reports: Iterable[dict[str, Any]],
        now: float | None = None,
        lease: float = LEASE_SECONDS,
    ) -> tuple[MemoryIndex, list[tuple[str, str]]]:
        """An index from the shards' own descriptions (after the index's host restarted).

        A sealed version is complete on its shard; per key the newest sealed version wins
        and older ones are returned as (node id, txid) to drop (their overwrite committed
        but the old copy was not dropped yet). Staged chunks become transactions with a
        fresh lease: a live client renews and commits; a gone one is swept."""
        now = time.time() if now is None else now
        index = cls(lease)
        sealed: dict[str, dict[str, Any]] = {}
        holders: dict[str, dict[str, str]] = {}
        for report in reports:
            for obj in report.get("objects", ()):
                txid = obj["txid"]
                if obj.get("sealed"):
                    sealed.setdefault(txid, obj)
                    holders.setdefault(txid, {})[report["node_id"]] = report["node_name"]
                    continue
                txn = index.txns.get(txid)
                if txn is None:
                    txn = index.txns[txid] = Txn(
                        txid=txid,
                        key=obj["key"],
                        force=bool(obj.get("force")),
                        nodes={},
                        reserved=int(obj.get("size") or obj.get("staged") or 0),
                        created=float(obj.get("created", now)),
                        lease_until=now + lease,
                    )
                txn.nodes[report["node_id"]] = report["node_name"]
        newest: dict[str, dict[str, Any]] = {}
        for obj in sealed.values():
            best = newest.get(obj["key"])
            if best is None or (obj["created"], obj["txid"]) > (best["created"], best["txid"]):
                newest[obj["key"]] = obj
        stale = []
        for txid, obj in sealed.items():
            if newest[obj["key"]]["txid"] != txid:
                stale += [(node_id, txid) for node_id in holders[txid]]
                continue
            index.objects[obj["key"]] = Version(
                txid=txid,
                key=obj["key"],
                size=int(obj["size"]),
                sha256=str(obj["sha256"]),
                chunks=[list(c) for c in obj["chunks"]],
                created=float(obj["created"]),
                last_read=float(obj.get("last_read", obj["created"])),
                nodes=dict(holders[txid]),
                replicas=int(obj.get("replicas", len(holders[txid]))),
            )
        return index, stale
