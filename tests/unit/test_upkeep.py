"""The controller loop's decision for one reservation: expiry, loss, vanished groups,
the leases of requests whose clients wait, and why Ray keeps one waiting."""

from __future__ import annotations

from typing import Any

import pytest

from gridtui.actors.upkeep import LEASE_SECONDS, Lease, adopt, decide, waiting_reason
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


LEASE = Lease(until=NOW + 2, deadline=NOW + 30)


def test_a_waited_for_request_is_kept_then_activated_when_ray_places_it() -> None:
    assert decide(res("pending"), "PENDING", [], NOW, lease=LEASE).kind == "keep"
    assert decide(res("pending"), "CREATED", [], NOW, lease=LEASE).kind == "activate"
    # Active but not claimed yet (its client has not seen it): the usual rules apply.
    assert decide(res("active"), "CREATED", [], NOW, lease=LEASE).kind == "keep"
    # A claimed one (no lease) that Ray shows pending again is never withdrawn for it.
    assert decide(res("pending", created=NOW - 3600), "PENDING", [], NOW).kind == "keep"


@pytest.mark.parametrize(
    ("state", "group", "dead", "lease", "draining", "why"),
    [
        ("pending", "PENDING", [], Lease(NOW - 0.1, NOW + 30), (), "stopped renewing"),
        ("active", "CREATED", [], Lease(NOW - 0.1, NOW + 30), (), "stopped renewing"),
        ("pending", "PENDING", [], Lease(NOW + 2, NOW - 0.1), (), "not placed within"),
        ("pending", "PENDING", ["worker-1"], LEASE, (), "worker-1 died"),
        ("active", "RESCHEDULING", [], LEASE, (), "rescheduling"),
        ("pending", "PENDING", [], LEASE, ("worker-1",), "worker-1 is draining"),
    ],
)
def test_a_request_whose_wait_ends_is_withdrawn(
    state: str, group: str, dead: list[str], lease: Lease, draining: tuple[str, ...], why: str
) -> None:
    action = decide(res(state), group, dead, NOW, lease=lease, draining=draining)
    assert (
        action.kind == "withdraw" and action.note.startswith("withdrawn: ") and why in action.note
    )


def test_a_renewal_moves_only_the_lease_not_the_deadline() -> None:
    renewed = LEASE.renewed(NOW + 5)
    assert renewed == Lease(NOW + 5 + LEASE_SECONDS, LEASE.deadline)
    assert decide(res("pending"), "PENDING", [], NOW + 7, lease=renewed).kind == "keep"


def row(pg: str, state: str = "PENDING", sched: str = "QUEUED", attempt: int = 0,
        name: str = "") -> dict[str, Any]:  # fmt: skip
    stats = {"scheduling_state": sched, "scheduling_attempt": attempt}
    return {"placement_group_id": pg, "state": state, "name": name, "stats": stats}


@pytest.mark.parametrize(
    ("own", "others", "expected"),
    [
        # Behind a group Ray is placing on a raylet that does not answer (seen: SIGSTOP).
        (row("me"), [row("b2", attempt=1)],
         "waiting for Ray: another placement group is pending on worker-2"),
        (row("me"), [row("f", attempt=1, name="gridtui:fence:head#1")],
         "waiting for Ray: another placement group is pending on head"),
        (row("me"), [row("abcdef0123456789", attempt=1, name="theirs")],
         "waiting for Ray: another placement group (theirs) is pending"),
        # Its own turn, and the node's raylet does not answer.
        (row("me", attempt=1), [row("b2", attempt=1)],
         "waiting for Ray: worker-1 has not confirmed it yet (its raylet is slow or stopped)"),
        (row("me", sched="NO_RESOURCES", attempt=2), [],
         "waiting for Ray: worker-1 has not enough free (other work holds it)"),
        (row("me", sched="INFEASIBLE", attempt=1), [],
         "waiting for Ray: no live node matches it (worker-1 gone or relabelled?)"),
        # Placed and removed groups ahead of it hold nothing up.
        (row("me"), [row("b2", "CREATED", "FINISHED", 1), row("b3", "REMOVED", "REMOVED", 1)],
         "waiting for Ray to place it (it places one group at a time)"),
    ],
)  # fmt: skip
def test_why_a_request_waits_in_ray(
    own: dict[str, Any], others: list[dict[str, Any]], expected: str
) -> None:
    table = [own, *others]
    assert waiting_reason(res("pending"), own, table, {"b2": "worker-2"}) == expected


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
