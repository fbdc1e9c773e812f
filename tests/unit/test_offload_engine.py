"""The engine's own bookkeeping around Ray: failed fences, retries and top-ups (Ray faked)."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import pytest

from gridtui.actors import cluster, fences, offload_engine
from gridtui.actors.offload_engine import OffloadEngine
from gridtui.model.offload import OffloadAction, OffloadPolicy, Rule, Trigger
from gridtui.policy.offload import OffloadState

HEAD = cluster.RayNode("head", "id-head", "127.0.0.2", True, True, True, {"CPU": 2.0})
OVER = Trigger("cpu", 95.0, 80.0, 10.0)


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> tuple[OffloadEngine, dict[str, Any]]:
    ray: dict[str, Any] = {"free": {"CPU": 2.0}, "place": None, "placed": []}

    def hold(node: cluster.RayNode, bundle: dict[str, float], part: int) -> tuple[Any, str]:
        if ray["place"] is not None:
            return None, ray["place"]
        ray["placed"].append((part, dict(bundle)))
        return f"pg{part}", f"done: holding {fences.held(bundle)}"

    monkeypatch.setattr(fences, "hold", hold)
    monkeypatch.setattr(
        offload_engine.ray_private, "available_per_node", lambda: {"id-head": ray["free"]}
    )
    monkeypatch.setattr(offload_engine.ray_private, "kv_put", lambda k, v: None)
    e = OffloadEngine.__new__(OffloadEngine)
    e._lock = threading.RLock()
    e.policy = OffloadPolicy(enabled=True, rules={"cpu": Rule(80)})
    e.events, e.seq, e.fences, e.drained = deque(), 0, {}, {}
    e._retry_at, e._failed, e._nodes, e.live, e._settled = {}, {}, {"head": HEAD}, {}, {}
    e.state = OffloadState(fenced=frozenset({"head"}), over={("head", "cpu"): OVER})
    return e, ray


def test_a_failed_fence_is_not_counted_and_is_retried_while_over(
    engine: tuple[OffloadEngine, dict[str, Any]],
) -> None:
    e, ray = engine
    ray["place"] = "failed: Ray did not place the fence within 5s"
    e._apply(OffloadAction("fence", "head", OVER, 1.0), {"head": HEAD})
    assert "head" not in e.state.fenced and "head" not in e.fences
    assert e.busy() == {}  # local-first does not count it fenced either
    assert e.events[-1].result.endswith("; not fenced, tried again every 10s while over")
    e._keep_fences({"head": HEAD})  # too soon: no retry, no event
    assert len(e.events) == 1
    e._retry_at["head"] = 0.0
    e._keep_fences({"head": HEAD})  # the same failure: retried, not said again
    assert len(e.events) == 1
    ray["place"] = None
    e._retry_at["head"] = 0.0
    e._keep_fences({"head": HEAD})
    assert "head" in e.state.fenced and e.fences["head"] == ["pg0"]
    assert e.events[-1].action == "fence" and e.events[-1].result == "done: holding 2 CPU"


def test_a_held_fence_is_topped_up_with_what_comes_free(
    engine: tuple[OffloadEngine, dict[str, Any]],
) -> None:
    e, ray = engine
    ray["free"] = {}
    e._apply(OffloadAction("fence", "head", OVER, 1.0), {"head": HEAD})
    assert e.fences == {"head": []} and "nothing free to hold yet" in e.events[-1].result
    e._keep_fences({"head": HEAD})
    assert ray["placed"] == [] and len(e.events) == 1
    ray["free"] = {"CPU": 1.0, "memory": 5.0}
    e._keep_fences({"head": HEAD})
    assert ray["placed"] == [(1, {"CPU": 1.0})] and e.fences["head"] == ["pg1"]
    e._keep_fences({"head": HEAD})  # Ray's figures have not settled: no second top-up
    assert ray["placed"] == [(1, {"CPU": 1.0})] and e.fences["head"] == ["pg1"]
    assert e.events[-1].result == "done: topped up with 1 CPU that came free"
