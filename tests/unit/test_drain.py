"""A drain's job with Ray faked: it runs to Ray's drain while its client waits, and is
undone (fence lifted, mark forgotten, no Ray drain) when the client goes before that."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import pytest

from gridtui.actors import cluster, drain, fences
from gridtui.actors.asks import Refusal
from gridtui.actors.offload_engine import OffloadEngine
from gridtui.model.offload import OffloadPolicy
from gridtui.policy.offload import OffloadState

W2 = cluster.RayNode("worker-2", "id-w2", "127.0.0.4", True, False, True, {"CPU": 1.0})
HEAD = cluster.RayNode("head", "id-head", "127.0.0.2", True, True, True, {"CPU": 1.0})


class FakeRay:
    """The groups, drains and KV a drain touches; `placed` says whether the fence places."""

    def __init__(self) -> None:
        self.placed = threading.Event()
        self.groups: dict[str, str] = {}
        self.drained: list[str] = []
        self.kv: dict[str, bytes] = {}

    def place(self, node: cluster.RayNode, bundle: dict[str, float], part: int) -> str:
        self.groups[f"pg-{node.name}"] = "PENDING"
        return f"pg-{node.name}"

    def entry(self, pg_id: str) -> dict[str, Any] | None:
        if pg_id not in self.groups:
            return None
        return {"state": "CREATED" if self.placed.is_set() else self.groups[pg_id]}

    def lift(self, ids: list[str]) -> str:
        for pg_id in ids:
            self.groups.pop(pg_id, None)
        return "done"

    def drain_node(self, node_id: str, message: str) -> tuple[bool, str]:
        self.drained.append(node_id)
        return True, ""


@pytest.fixture
def ray(monkeypatch: pytest.MonkeyPatch) -> FakeRay:
    fake = FakeRay()
    monkeypatch.setattr(fences, "place", fake.place)
    monkeypatch.setattr(fences, "lift", fake.lift)
    monkeypatch.setattr(cluster, "group_entry", fake.entry)
    monkeypatch.setattr(drain.ray_private, "drain_node", fake.drain_node)
    monkeypatch.setattr(drain.ray_private, "available_per_node", lambda: {"id-w2": {"CPU": 1.0}})
    monkeypatch.setattr(drain.ray_private, "draining_nodes", lambda: set(fake.drained))
    monkeypatch.setattr(drain.ray_private, "kv_put", fake.kv.__setitem__)
    monkeypatch.setattr(drain, "POLL", 0.01)
    return fake


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> OffloadEngine:
    from gridtui.actors import offload_engine, offload_readings

    monkeypatch.setattr(offload_engine.ray_private, "kv_put", lambda k, v: None)
    e = OffloadEngine.__new__(OffloadEngine)
    e._lock = threading.RLock()
    e.policy = OffloadPolicy()
    e.events, e.seq, e.fences, e.drained = deque(), 0, {}, {}
    e._retry_at, e._failed, e._settled = {}, {}, {}
    e.readings = offload_readings.Readings({})
    e._nodes, e._nodes_at = {"head": HEAD, "worker-2": W2}, time.monotonic()
    e.state = OffloadState()
    e.spill = lambda node, trigger: "done: none stored"  # type: ignore[method-assign]
    monkeypatch.setattr(e, "nodes", lambda fresh=False: e._nodes)
    return e


def settled(job: drain.DrainJob) -> str:
    """The job's step once it stops running (the bound only keeps a bug from hanging)."""
    deadline = time.monotonic() + 30
    while job.running:
        assert time.monotonic() < deadline, job.view()
        time.sleep(0.01)
    return job.step


def started(engine: OffloadEngine, ray: FakeRay) -> tuple[drain.DrainJob, dict[str, Any]]:
    jobs: dict[str, drain.DrainJob] = {}
    view = drain.begin(engine, "worker-2", jobs)
    assert view["step"] == "fence" and engine.drained.keys() == {"worker-2"}
    return jobs["worker-2"], jobs


def test_a_drain_its_client_waits_for_reaches_rays_drain(
    engine: OffloadEngine, ray: FakeRay
) -> None:
    job, jobs = started(engine, ray)
    ray.placed.set()
    assert settled(job) == "done"
    view = drain.progress(jobs, "worker-2")
    assert (view["fence"], view["spill"], view["ray"]) == (
        "done: holding 1 CPU", "done: none stored", "done: Ray drains it",
    )  # fmt: skip
    assert ray.drained == ["id-w2"] and engine.fences == {"worker-2": ["pg-worker-2"]}
    assert [e.action for e in engine.events] == ["fence", "drain"]
    with pytest.raises(Refusal) as refused:
        drain.begin(engine, "worker-2", jobs)
    assert str(refused.value) == "worker-2 is drained already (`gridtui node undrain worker-2`)"

    undone = drain.undrain(engine, "worker-2", jobs)
    assert undone["fence"] == "done" and "worker-2" not in engine.drained
    assert undone["ray"].startswith("kept: Ray's drain cannot be undone (Ray has no call for it)")
    assert ray.groups == {}


@pytest.mark.parametrize(
    ("end", "why"),
    [
        (lambda job: job.cancel("its client was interrupted"), "its client was interrupted"),
        (lambda job: setattr(job, "lease_until", 0.0), "its client stopped renewing"),
    ],
)
def test_a_drain_whose_client_goes_before_rays_drain_is_undone(
    engine: OffloadEngine, ray: FakeRay, end: Callable[[drain.DrainJob], None], why: str
) -> None:
    job, jobs = started(engine, ray)
    with pytest.raises(Refusal, match=r"^a drain of worker-2 is under way"):
        drain.undrain(engine, "worker-2", jobs)
    end(job)  # while its fence waits for Ray
    assert settled(job) == "withdrawn"
    assert why in job.view()["withdrawn"]
    assert ray.groups == {} and ray.drained == [] and engine.drained == {}
    assert engine.fences == {}
    assert engine.events[-1].action == "undrain" and "withdrawn" in engine.events[-1].result


def test_a_fence_ray_does_not_place_in_time_is_lifted_and_the_drain_goes_on(
    engine: OffloadEngine, ray: FakeRay, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(drain, "FENCE_WAIT", 0.05)
    job, _ = started(engine, ray)
    assert settled(job) == "done"
    assert job.view()["fence"] == "failed: Ray did not place the fence within 0.05s"
    assert ray.groups == {} and ray.drained == ["id-w2"]


def test_a_restart_undoes_a_drain_that_never_reached_ray(
    engine: OffloadEngine, ray: FakeRay
) -> None:
    engine.drained = {"worker-2": 1.0}
    engine.fences = {"worker-2": ["pg-worker-2"]}
    ray.groups["pg-worker-2"] = "CREATED"
    engine.state = OffloadState(fenced=frozenset({"worker-2"}))  # restored from its fence
    assert drain.recover(engine) == ["worker-2"]
    assert engine.drained == {} and engine.fences == {} and ray.groups == {}
    assert "worker-2" not in engine.state.fenced
    # One Ray still drains is left as it is.
    engine.drained = {"worker-2": 1.0}
    ray.drained.append("id-w2")
    assert drain.recover(engine) == []
