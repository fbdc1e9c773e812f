"""The controller's reservation desk with Ray's tables faked (its own code, the store's
JSON in a fake KV): two requests for the last CPU never both win, a request is claimed
once placed and withdrawn when its client stops renewing, and a TTL survives a restart."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest

from gridtui.actors import cluster, desk, ray_private
from gridtui.actors.asks import Refusal
from gridtui.actors.desk import Desk
from gridtui.actors.upkeep import LEASE_SECONDS
from gridtui.model.reservations import Reservation, parse_pg_name, pg_name
from gridtui.model.wire import control as wc

W1 = cluster.RayNode("worker-1", "id-w1", "127.0.0.3", True, False, True, {"CPU": 1.0})


class FakeRay:
    """Ray's group table, free figures and KV as the desk reads and writes them."""

    def __init__(self) -> None:
        self.kv: dict[str, bytes] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.free = {"id-w1": {"CPU": 1.0}}

    def create(self, record: Reservation, nodes: object) -> Any:
        pg_id = f"{len(self.groups) + 1:04x}"
        self.groups[pg_id] = {
            "placement_group_id": pg_id, "name": pg_name(record.kind, record.id),
            "state": "PENDING", "bundles": {0: {"CPU": record.amount}},
            "bundles_to_node_id": {0: "id-w1"},
        }  # fmt: skip
        return SimpleNamespace(id=SimpleNamespace(hex=lambda: pg_id))

    def place(self, pg_id: str) -> None:
        self.groups[pg_id]["state"] = "CREATED"
        self.free["id-w1"]["CPU"] -= 1.0

    def remove(self, pg_id: str) -> None:
        if self.groups.pop(pg_id, {}).get("state") == "CREATED":
            self.free["id-w1"]["CPU"] += 1.0

    def mine(self) -> dict[str, dict[str, Any]]:
        out = {}
        for entry in self.groups.values():
            kind, rid = parse_pg_name(entry["name"]) or ("", "")
            out[rid] = {**entry, "kind": kind}
        return out


@pytest.fixture
def ray(monkeypatch: pytest.MonkeyPatch) -> FakeRay:
    fake = FakeRay()
    patches: dict[str, Any] = {
        "ray_nodes": lambda: {"worker-1": W1},
        "group_table": lambda: {k: dict(v) for k, v in fake.groups.items()},
        "group_entry": lambda pg_id: dict(fake.groups[pg_id]) if pg_id in fake.groups else None,
        "create_group": fake.create,
        "remove_group": fake.remove,
        "resources_back": lambda record, before: True,
        "gridtui_groups": fake.mine,
    }
    for name, value in patches.items():
        monkeypatch.setattr(cluster, name, value)
    monkeypatch.setattr(ray_private, "available_per_node", lambda: fake.free)
    monkeypatch.setattr(ray_private, "draining_nodes", set)
    monkeypatch.setattr(ray_private, "kv_put", fake.kv.__setitem__)
    monkeypatch.setattr(ray_private, "kv_get", fake.kv.get)
    monkeypatch.setattr(ray_private, "kv_del", lambda key: fake.kv.pop(key, None))
    monkeypatch.setattr(ray_private, "kv_keys", lambda p: [k for k in fake.kv if k.startswith(p)])
    return fake


def new_desk() -> Desk:
    return Desk(200, dict, cluster.draining)


def boost(ttl: float | None = None, owner: str = "ann") -> wc.Reserve:
    return wc.Reserve("boost", "cpu", 1.0, ttl, 30.0, owner, node="worker-1")


def record(data: dict[str, Any] | None) -> Reservation:
    assert data is not None
    return Reservation.from_record(data)


def test_two_requests_for_the_last_cpu_never_both_win(ray: FakeRay) -> None:
    d = new_desk()
    first = record(d.reserve(boost()).reservation)
    assert (first.id, first.state) == ("b1", "pending")
    # Ray has not placed b1 yet and still shows the CPU free: the desk counts it taken.
    with pytest.raises(Refusal, match=r"^worker-1 has 0 CPU free \(of 1 CPU\); asked 1 CPU$"):
        d.reserve(boost(owner="bob"))
    assert len(ray.groups) == 1 and list(d.book.records) == ["b1"]


def test_a_request_is_claimed_once_placed_and_released_leaving_nothing(ray: FakeRay) -> None:
    d = new_desk()
    held = record(d.reserve(boost()).reservation)
    assert record(d.claim(wc.Claim("b1")).reservation).state == "pending"  # not placed yet
    ray.place(held.pg_id)
    assert record(d.claim(wc.Claim("b1")).reservation).state == "active"
    assert not d.book.leased("b1") and b'"active"' in ray.kv["reservation:b1"]
    ended = d.release(wc.Release("b1", "ann"))
    assert not ended.already and record(ended.reservation).note == "released by ann"
    assert ray.groups == {} and "reservation:b1" not in ray.kv and ray.free["id-w1"]["CPU"] == 1
    assert d.release(wc.Release("b1")).already
    with pytest.raises(Refusal, match="no reservation 'b9'"):
        d.release(wc.Release("b9"))


def test_a_request_whose_client_stops_renewing_is_withdrawn(
    ray: FakeRay, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = new_desk()
    d.reserve(boost())
    later = time.time() + LEASE_SECONDS + 1
    monkeypatch.setattr(desk.time, "time", lambda: later)
    assert d.tick() == 1
    assert ray.groups == {} and d.book.get("b1") is None
    with pytest.raises(Refusal, match="b1 is gone: withdrawn"):
        d.renew(wc.Renew("b1"))
    assert [e.kind for e in d.book.events_after(0)[1]] == ["withdrawn"]


def test_a_ttl_and_an_owner_survive_a_restart_and_ids_go_on(
    ray: FakeRay, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = new_desk()
    held = record(d.reserve(boost(ttl=600, owner="ann")).reservation)
    ray.place(held.pg_id)
    d.claim(wc.Claim("b1"))
    successor = new_desk()  # the controller restarted: Ray's table and the KV are all it has
    kept = successor.book.get("b1")
    assert kept is not None and (kept.state, kept.owner) == ("active", "ann")
    assert kept.expires == held.expires and successor.rebuilt["restored"] == 1
    ray.free["id-w1"]["CPU"] = 1.0  # another node's worth: the next id is above b1
    assert record(successor.reserve(boost()).reservation).id == "b2"
    after_ttl = (held.expires or 0) + 1
    monkeypatch.setattr(desk.time, "time", lambda: after_ttl)
    successor.tick()
    assert successor.book.get("b1") is None and held.pg_id not in ray.groups
