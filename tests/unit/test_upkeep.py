"""The controller loop's decision for one reservation: expiry, loss, vanished groups."""

from __future__ import annotations

from gridtui.actors.upkeep import PENDING_GRACE, adopt, decide
from gridtui.model.reservations import Bundle, Reservation

NOW = 1_000_000.0


def res(
    state: str = "active", expires: float | None = None, created: float = NOW - 10
) -> Reservation:
    return Reservation(
        id="b1", kind="boost", type="cpu", amount=1.0,
        bundles=(Bundle("worker-1", 1.0, "n1"),), state=state, created=created, expires=expires,
    )  # fmt: skip


def test_an_active_one_is_kept_until_its_last_minute_then_warned_then_expired() -> None:
    assert decide(res(expires=NOW + 3600), "CREATED", [], NOW).kind == "keep"
    assert decide(res(), "CREATED", [], NOW).kind == "keep"
    assert decide(res(expires=NOW + 30), "CREATED", [], NOW).kind == "warn"
    assert decide(res(expires=NOW + 30), "CREATED", [], NOW, warned=True).kind == "keep"
    action = decide(res(expires=NOW), "CREATED", [], NOW)
    assert (action.kind, action.note) == ("expire", "expired")


def test_a_dead_node_loses_it_before_anything_else() -> None:
    action = decide(res(expires=NOW - 1), "CREATED", ["worker-1"], NOW)
    assert (action.kind, action.note) == ("lose", "worker-1 died")
    assert decide(res(), "RESCHEDULING", [], NOW).kind == "lose"


def test_a_group_removed_behind_its_back_is_released() -> None:
    action = decide(res(), None, [], NOW)
    assert action.kind == "vanish" and "outside gridtui" in action.note


def test_pending_ones_activate_or_are_withdrawn_after_the_grace() -> None:
    assert decide(res("pending"), "CREATED", [], NOW).kind == "activate"
    assert decide(res("pending"), "PENDING", [], NOW).kind == "keep"
    old = res("pending", created=NOW - PENDING_GRACE - 1)
    assert decide(old, "PENDING", [], NOW).kind == "withdraw"


def test_lost_ones_stay_until_released_or_past_their_ttl() -> None:
    assert decide(res("lost"), None, ["worker-1"], NOW).kind == "keep"
    assert decide(res("lost", expires=NOW - 1), None, [], NOW).kind == "expire"


def test_a_group_without_a_record_is_adopted_from_rays_table_alone() -> None:
    entry = {
        "placement_group_id": "pg1",
        "kind": "share",
        "bundles": {0: {"memory": 2.0 * 1024**2}, 1: {"memory": 1024.0**2}},
        "bundles_to_node_id": {0: "n1", 1: ""},
    }
    got = adopt("s9", entry, {"n1": "worker-1"}, "pending", NOW)
    assert (got.id, got.kind, got.type, got.amount, got.state) == (
        "s9", "share", "memory", 3.0 * 1024**2, "pending",
    )  # fmt: skip
    assert got.bundles == (Bundle("worker-1", 2.0 * 1024**2, "n1"), Bundle("", 1024.0**2, ""))
    assert got.expires is None and got.pg_id == "pg1" and "adopted" in got.reason
