"""Reservation records: the JSON a user sees, the record that crosses Ray, derived states."""

from __future__ import annotations

import pytest

from gridtui.client import Held
from gridtui.model.nodes import ClusterSnapshot, NodeSample, NodeState, NodeStatus
from gridtui.model.reservations import (
    Bundle,
    Reservation,
    ReservationsSnapshot,
    format_amount,
    parse_pg_name,
    pg_name,
)
from gridtui.services.control.feed import metrics_table

SHARE = Reservation(
    id="s4", kind="share", type="memory", amount=3 * 1024**3,
    bundles=(Bundle("w1", 2 * 1024**3, "n1"), Bundle("w2", 1024**3, "n2")),
    state="active", created=100.0, expires=200.0, owner="me", strategy="spread",
    reason="even", pg_id="abc",
)  # fmt: skip


def test_the_json_object_leads_with_the_issues_fields() -> None:
    data = SHARE.to_json()
    assert list(data)[:7] == ["id", "node", "type", "amount", "state", "created", "expires"]
    assert data["node"] == "w1,w2" and data["amount"] == 3 * 1024**3
    assert data["nodes"] == [
        {"node": "w1", "amount": 2 * 1024**3},
        {"node": "w2", "amount": 1024**3},
    ]


def test_records_round_trip() -> None:
    assert Reservation.from_record(SHARE.to_record()) == SHARE


def test_expiring_is_derived_from_the_clock() -> None:
    assert SHARE.state_at(100.0) == "active"
    assert SHARE.state_at(150.0) == "expiring"
    assert SHARE.replace(expires=None).state_at(1e12) == "active"
    assert SHARE.replace(state="lost").state_at(150.0) == "lost"
    assert SHARE.ttl_left(150.0) == 50.0 and SHARE.ttl_left(300.0) == 0.0


def test_group_names_map_back_to_ids() -> None:
    assert pg_name("boost", "b7") == "gridtui:boost:b7"
    assert parse_pg_name("gridtui:share:s8") == ("share", "s8")
    assert parse_pg_name("someone-else") is None
    assert parse_pg_name("gridtui:fence:x") is None


def test_reserved_per_node_counts_only_what_is_held() -> None:
    boost = SHARE.replace(id="b1", kind="boost", type="cpu", amount=1.0,
                          bundles=(Bundle("w1", 1.0),))  # fmt: skip
    lost = boost.replace(id="b2", state="lost")
    snap = ReservationsSnapshot(time=0.0, reservations=(SHARE, boost, lost))
    assert snap.reserved() == {"w1": {"memory": 2 * 1024**3, "cpu": 1.0}, "w2": {"memory": 1024**3}}
    assert {r.id for r in snap.for_node("w1")} == {"s4", "b1", "b2"}
    assert snap.for_node("w2") == (SHARE,)


def test_amounts_read_well() -> None:
    assert format_amount("cpu", 2) == "2 CPU"
    assert format_amount("gpu", 0.5) == "0.5 GPU"
    assert format_amount("memory", 512 * 1024**2) == "512 MiB"
    assert format_amount("memory", 4 * 1024**3) == "4 GiB"


def sample(cpu: float) -> NodeSample:
    return NodeSample(
        time=0, received=0, cpu_percent=cpu, cpu_per_core=(), load=(0, 0, 0), mem_total=100,
        mem_used=40, swap_total=0, swap_used=0, disk_total=0, disk_used=0, net_rx=0, net_tx=0,
    )  # fmt: skip


def test_the_hubs_figures_become_the_schedulers_live_table() -> None:
    nodes = (
        NodeStatus("a", "h", "head", NodeState.UP, sample=sample(12.0)),
        NodeStatus("b", "h", "worker", NodeState.STALE, sample=sample(50.0)),
        NodeStatus("c", "h", "worker", NodeState.UNREACHABLE),
        NodeStatus("d", "h", "worker", NodeState.CONNECTING),
    )
    table = metrics_table(ClusterSnapshot("x", 0.0, nodes))
    assert table == {
        "a": {"state": "UP", "cpu": 12.0, "mem": 40.0, "gpu": None},
        "b": {"state": "STALE", "cpu": 50.0, "mem": 40.0, "gpu": None},
        "c": {"state": "DOWN", "cpu": None, "mem": None, "gpu": None},
    }
    assert metrics_table(None) is None


def test_options_refuse_a_reservation_that_holds_nothing() -> None:
    with pytest.raises(ValueError, match="s4 holds nothing \\(lost\\)"):
        Held(SHARE.replace(state="lost")).options()
