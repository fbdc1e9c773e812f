"""The controller's book without Ray: leases, claims, history, events, and what a new
controller keeps of its predecessor's reservations (TTLs and owners survive a restart)."""

from __future__ import annotations

from gridtui.actors.book import Book, next_number, replay
from gridtui.actors.upkeep import LEASE_SECONDS, Lease
from gridtui.model.reservations import Bundle, Reservation

NOW = 1_000_000.0


def res(rid: str = "b1", state: str = "pending", **changes: object) -> Reservation:
    record = Reservation(
        id=rid, kind="boost", type="cpu", amount=1.0, bundles=(Bundle("worker-1", 1.0, "n1"),),
        state=state, created=NOW - 10, owner="ann@host (cli, pid 1)", pg_id=f"pg-{rid}",
    )  # fmt: skip
    return record.replace(**changes) if changes else record


def test_a_lease_is_renewed_until_claimed_and_a_gone_request_says_why() -> None:
    book = Book()
    book.put(res(), Lease(NOW + LEASE_SECONDS, NOW + 60))
    assert book.leased("b1") and book.pending() == [res()]
    assert book.renew("b1", NOW + 1) == res()
    assert book.leases["b1"].until > NOW + LEASE_SECONDS
    book.claim("b1")
    assert not book.leased("b1")
    assert book.renew("b1", NOW + 2) == res()  # claimed: nothing left to renew
    book.end(res(state="released", note="withdrawn: its client gave up"))
    assert book.get("b1") is None and book.renew("b1", NOW + 3) is None
    assert book.gone("b1") == "b1 is gone: withdrawn: its client gave up"
    assert book.gone("b9") == "no reservation 'b9' (the controller has no record of it)"
    assert book.unknown("b9") == "no reservation 'b9' (current: none)"


def test_history_keeps_the_newest_and_ids_are_never_reused() -> None:
    book = Book(history_limit=2)
    for n in (1, 2, 3):
        book.end(res(f"b{n}", state="released"))
    assert [r.id for r in book.history] == ["b2", "b3"]
    book.put(res("s7"))
    assert sorted(book.ids()) == ["b2", "b3", "s7"]
    assert next_number(book.ids()) == 8
    assert next_number([]) == 1 and next_number(["bx"]) == 1


def test_events_are_numbered_and_read_after_a_sequence() -> None:
    book = Book()
    book.event("created", res(), "b1: 1 CPU on worker-1")
    book.event("released", res(), "b1: released", "warning")
    seq, found = book.events_after(1)
    assert seq == 2 and [(e.seq, e.kind, e.severity) for e in found] == [(2, "released", "warning")]


def test_an_explanation_is_kept_only_for_the_record_it_was_made_for() -> None:
    book = Book()
    first = res()
    book.put(first)
    book.explain(first, "waits behind b0 on worker-1")
    assert book.get("b1").waiting == "waits behind b0 on worker-1"  # type: ignore[union-attr]
    book.explain(first, "something stale")  # the record changed meanwhile: not applied
    assert book.get("b1").waiting == "waits behind b0 on worker-1"  # type: ignore[union-attr]


GROUPS = {
    "b1": {"placement_group_id": "pg-b1", "state": "CREATED", "bundles": {0: {"CPU": 1.0}}},
    "b2": {"placement_group_id": "pg-b2", "state": "PENDING", "bundles": {0: {"CPU": 1.0}}},
    "s3": {
        "placement_group_id": "pg-s3", "state": "CREATED", "kind": "share",
        "bundles": {0: {"CPU": 0.5}, 1: {"CPU": 0.5}}, "bundles_to_node_id": {0: "n1", 1: "n2"},
    },
}  # fmt: skip


def test_a_successor_keeps_ttls_and_owners_adopts_strays_and_drops_the_vanished() -> None:
    stored = {
        "b1": res("b1", state="active", expires=NOW + 600),
        "b2": res("b2", state="pending"),  # never claimed: its client may still wait
        "b4": res("b4", state="active"),  # its group is gone
        "b5": res("b5", state="lost", note="worker-1 died"),
    }
    book = Book()
    counts, puts, deletes = replay(
        book, stored, GROUPS, {"n1": "worker-1", "n2": "worker-2"}, [res("b0", "released")], NOW
    )
    assert counts == {"restored": 3, "adopted": 1, "dropped": 1}
    b1 = book.get("b1")
    assert b1 is not None and (b1.state, b1.expires, b1.owner) == ("active", NOW + 600, res().owner)
    assert book.leased("b2") and not book.leased("b1")  # a fresh lease for the waiting one
    assert book.get("b5").state == "lost"  # type: ignore[union-attr]
    adopted = book.get("s3")
    assert adopted is not None and adopted.owner == "unknown" and adopted.amount == 1.0
    assert [b.node for b in adopted.bundles] == ["worker-1", "worker-2"]
    assert puts == [adopted] and deletes == ["b4"]
    assert [(r.id, r.note) for r in book.history] == [
        ("b0", ""), ("b4", "its placement group is gone"),
    ]  # fmt: skip
