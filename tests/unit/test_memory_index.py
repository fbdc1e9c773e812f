"""The memory index alone: placement, room, leases, atomic overwrite, lost nodes, rebuild."""

from __future__ import annotations

import pytest

from gridtui.actors.memory_index import GROWTH_STEP, MemoryIndex, Node, Refused

MiB = 1024**2


def index(*caps: int, lease: float = 6.0) -> MemoryIndex:
    ix = MemoryIndex(lease)
    names = ["head", "worker-1", "worker-2"]
    ix.set_nodes(Node(f"id-{n}", n, c * MiB) for n, c in zip(names, caps, strict=False))
    return ix


def stored(ix: MemoryIndex, key: str, size: int, **kw: object) -> str:
    txn = ix.begin(key, size, now=100.0, **kw)  # type: ignore[arg-type]
    ix.start_commit(txn.txid, size)
    ix.finish_commit(txn.txid, {"size": size, "sha256": "s", "chunks": [[size, 1]]}, now=101.0)
    return txn.txid


def test_placement_by_room_and_distinct_replicas() -> None:
    ix = index(100, 100, 100)
    stored(ix, "a", 60 * MiB, node="worker-1")
    txn = ix.begin("b", 30 * MiB, replicas=2)
    assert set(txn.nodes.values()) == {"head", "worker-2"}  # the two with most room
    assert ix.reserved("id-head") == 30 * MiB and ix.free("id-head") == 70 * MiB


def test_refusals_say_why() -> None:
    ix = index(100, 100, 50)
    stored(ix, "a", 10 * MiB)
    with pytest.raises(Refused, match=r"key 'a' exists \(10.0 MiB, complete\); --force"):
        ix.begin("a", 1)
    with pytest.raises(Refused, match=r"unknown node 'nope' \(alive: head, worker-1, worker-2\)"):
        ix.begin("b", 1, node="nope")
    with pytest.raises(Refused, match="--replicas 4: only 3 nodes are alive"):
        ix.begin("b", 1, replicas=4)
    with pytest.raises(Refused) as room:
        ix.begin("b", 95 * MiB, replicas=2)
    assert str(room.value) == (
        "not enough room for 95.0 MiB (2 replicas on distinct nodes); "
        "free: head 90.0 MiB, worker-1 100.0 MiB, worker-2 50.0 MiB"
    )
    with pytest.raises(Refused, match="not enough room"):
        ix.begin("b", 60 * MiB, node="worker-2")
    assert set(ix.objects) == {"a"} and not ix.txns


def test_capacity_counts_stores_in_progress() -> None:
    ix = index(100)
    ix.begin("a", 70 * MiB)
    with pytest.raises(Refused, match=r"free: head 30\.0 MiB"):
        ix.begin("b", 40 * MiB)


def test_stream_reservation_grows_until_the_node_is_full() -> None:
    ix = index(100)
    txn = ix.begin("s", None)
    assert txn.reserved == GROWTH_STEP
    assert ix.extend(txn.txid, GROWTH_STEP + 1) == 100 * MiB
    with pytest.raises(Refused, match=r"not enough room for 100\.0 MiB"):
        ix.extend(txn.txid, 100 * MiB + 1)


def test_expired_leases_and_renewal() -> None:
    ix = index(100, lease=5.0)
    txn = ix.begin("a", MiB, now=0.0)
    assert ix.expired(4.0) == []
    assert ix.renew(txn.txid, 4.0)
    assert ix.expired(8.0) == [] and ix.expired(9.5) == [txn]
    ix.start_commit(txn.txid, MiB)
    assert ix.expired(100.0) == []  # committing: the sweep leaves it alone
    ix.drop_txn(txn.txid)
    assert not ix.renew(txn.txid)
    with pytest.raises(Refused, match="aborted by the cluster"):
        ix.start_commit(txn.txid, MiB)


def test_force_overwrite_switches_in_one_step() -> None:
    ix = index(100, 100)
    old = stored(ix, "k", 10 * MiB)
    txn = ix.begin("k", 20 * MiB, force=True)
    assert ix.lookup("k").txid == old  # the old version is served meanwhile
    ix.start_commit(txn.txid, 20 * MiB)
    replaced = ix.finish_commit(txn.txid, {"size": 20 * MiB, "sha256": "n", "chunks": []})
    assert replaced is not None and replaced.txid == old
    assert ix.lookup("k").txid == txn.txid and ix.lookup("k").size == 20 * MiB


def test_two_new_stores_of_one_key() -> None:
    ix = index(100)
    ix.begin("k", MiB)
    with pytest.raises(Refused, match="being stored by another client"):
        ix.begin("k", MiB)


def test_a_dead_node_takes_only_objects_without_another_replica() -> None:
    ix = index(100, 100, 100)
    stored(ix, "two", MiB, replicas=2, node="worker-1")
    stored(ix, "one", MiB, node="worker-1")
    staging = ix.begin("staging", MiB, node="worker-1")
    nodes = [Node("id-head", "head", 100 * MiB), Node("id-worker-1", "worker-1", 0, alive=False)]
    nodes.append(Node("id-worker-2", "worker-2", 100 * MiB))
    lost, doomed = ix.set_nodes(nodes)
    assert lost == ["one"] and doomed == [staging]
    assert ix.lookup("one").state == "lost" and ix.lookup("one").lost == {"id-worker-1": "worker-1"}
    assert ix.lookup("two").state == "complete" and len(ix.lookup("two").nodes) == 1
    assert ix.used("id-worker-1") == 0


def test_rebuild_from_shard_reports() -> None:
    def obj(txid: str, key: str, created: float, sealed: bool = True) -> dict[str, object]:
        return {
            "txid": txid, "key": key, "size": 10, "sha256": "s", "chunks": [[10, 1]],
            "created": created, "last_read": created, "sealed": sealed, "replicas": 2,
        }  # fmt: skip

    reports = [
        {
            "node_id": "n1",
            "node_name": "a",
            "objects": [obj("t1", "k", 1.0), obj("t9", "s", 5, False)],
        },
        {"node_id": "n2", "node_name": "b", "objects": [obj("t1", "k", 1.0), obj("t2", "k", 2.0)]},
    ]
    ix, stale = MemoryIndex.rebuild(reports, now=10.0)
    # Per key the newest sealed version wins; the one it replaced is dropped.
    assert ix.objects["k"].txid == "t2" and ix.objects["k"].nodes == {"n2": "b"}
    assert sorted(stale) == [("n1", "t1"), ("n2", "t1")]
    # Staged chunks wait for their client's lease, then the sweep takes them.
    assert ix.txns["t9"].nodes == {"n1": "a"} and ix.expired(10.0 + ix.lease + 1) == [ix.txns["t9"]]


def test_a_move_keeps_replicas_on_distinct_nodes_and_switches_in_one_step() -> None:
    ix = index(100, 100, 40)
    txid = stored(ix, "two", 30 * MiB, node="head", replicas=2)  # head + worker-1
    assert set(ix.objects["two"].nodes.values()) == {"head", "worker-1"}
    move = ix.begin_move("two", "id-head")
    # worker-1 holds the other replica: worker-2 is the only place, though it has less room.
    assert move.txid == txid and move.nodes == {"id-worker-2": "worker-2"}
    assert ix.reserved("id-worker-2") == 30 * MiB
    with pytest.raises(Refused, match="being moved already"):
        ix.begin_move("two", "id-head")
    assert ix.finish_move(move.txid, "id-head")
    assert set(ix.objects["two"].nodes.values()) == {"worker-1", "worker-2"}
    assert ix.reserved("id-worker-2") == 0 and ix.used("id-worker-2") == 30 * MiB


def test_a_move_with_nowhere_to_go_or_a_key_replaced_meanwhile() -> None:
    ix = index(100, 100, 10)
    stored(ix, "big", 50 * MiB, node="head", replicas=2)
    with pytest.raises(Refused, match=r"no node has room for 50\.0 MiB beside its other replicas"):
        ix.begin_move("big", "id-head")
    stored(ix, "one", 5 * MiB, node="head")
    with pytest.raises(Refused, match="no node has room"):
        ix.begin_move("one", "id-head", avoid=["id-worker-1", "id-worker-2"])
    move = ix.begin_move("one", "id-head")
    assert move.nodes == {"id-worker-1": "worker-1"}
    stored(ix, "one", 5 * MiB, node="worker-2", force=True)  # replaced during the move
    assert not ix.finish_move(move.txid, "id-head")
    assert set(ix.objects["one"].nodes.values()) == {"worker-2"}
    assert move.txid not in ix.txns


def test_a_draining_node_takes_no_new_store() -> None:
    ix = MemoryIndex()
    ix.set_nodes(
        [Node("id-head", "head", 100 * MiB), Node("id-w1", "worker-1", 100 * MiB, draining=True)]
    )
    with pytest.raises(Refused, match=r"^worker-1 is draining: nothing new is stored there$"):
        ix.begin("a", MiB, node="worker-1")
    assert set(ix.begin("a", 90 * MiB).nodes.values()) == {"head"}
    with pytest.raises(Refused, match="only 1 nodes are alive"):
        ix.begin("b", MiB, replicas=2)
    assert [t.key for t in ix.txns.values()] == ["a"]
