"""The engine's own bookkeeping around Ray: failed fences, retries, top-ups, mode changes (Ray faked)."""

from __future__ import annotations

import dataclasses
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

import pytest

from gridtui.actors import cluster, fences, offload_engine, offload_readings
from gridtui.actors.node_sampler import NodeSampler
from gridtui.actors.offload_engine import OffloadEngine
from gridtui.actors.still_running import StillRunningReader
from gridtui.model.offload import OffloadAction, OffloadPolicy, Rule, Trigger
from gridtui.policy.offload import OffloadState, restore

HEAD = cluster.RayNode("head", "id-head", "127.0.0.2", True, True, True, {"CPU": 2.0})
OVER = Trigger("cpu", 95.0, 80.0, 10.0)


class Clock:
    """The engine's clock, moved by the test: `sleep` moves it too."""

    def __init__(self) -> None:
        self.now = 1000.0

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class RecordedSampler(NodeSampler):
    """The head's sampler in the controller's process, reading a recorded trace."""

    def __init__(self, clock: Clock, cpu: Callable[[float], float]) -> None:
        self.clock, self.cpu_at = clock, cpu

    def sample(self) -> dict[str, Any]:
        return {"t": self.clock.now, "cpu": self.cpu_at(self.clock.now), "memory": 10.0}


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> tuple[OffloadEngine, dict[str, Any]]:
    """An engine with Ray faked: `held` is Ray's placement group table of fences."""
    ray: dict[str, Any] = {"free": {"CPU": 2.0}, "place": None, "placed": [], "held": {}}
    clock = ray["clock"] = Clock()

    def hold(node: cluster.RayNode, bundle: dict[str, float], part: int) -> tuple[Any, str]:
        if ray["place"] is not None:
            return None, ray["place"]
        ray["placed"].append((part, dict(bundle)))
        ray["held"][f"pg{part}"] = (node.name, dict(bundle))
        for k, v in bundle.items():  # what a group holds is no longer free
            ray["free"][k] = ray["free"].get(k, 0.0) - v
        return f"pg{part}", f"done: holding {fences.held(bundle)}"

    def lift(ids: list[str]) -> str:
        for pg_id in ids:
            _, bundle = ray["held"].pop(pg_id, ("", {}))
            for k, v in bundle.items():
                ray["free"][k] = ray["free"].get(k, 0.0) + v
        return "done"

    def groups() -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for pg_id, (node, _) in ray["held"].items():
            out.setdefault(node, []).append(pg_id)
        return out

    monkeypatch.setattr(fences, "hold", hold)
    monkeypatch.setattr(fences, "lift", lift)
    monkeypatch.setattr(fences, "groups", groups)
    monkeypatch.setattr(
        offload_engine.ray_private, "available_per_node", lambda: {"id-head": ray["free"]}
    )
    monkeypatch.setattr(offload_engine.ray_private, "kv_put", lambda k, v: None)
    monkeypatch.setattr(offload_engine.cluster, "ray_nodes", lambda: {"head": HEAD})
    monkeypatch.setattr(offload_engine, "time", clock)
    monkeypatch.setattr(offload_readings, "time", clock)

    def no_ray(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a unit test must not start Ray")

    monkeypatch.setattr(offload_readings.ray, "remote", no_ray)
    e = OffloadEngine.__new__(OffloadEngine)
    e._lock = threading.RLock()
    e.policy = OffloadPolicy(enabled=True, rules={"cpu": Rule(80)})
    e.stored = True
    e.events, e.seq, e.fences, e.drained = deque(), 0, {}, {}
    e._retry_at, e._failed, e._nodes, e._settled = {}, {}, {"head": HEAD}, {}
    e._nodes_at = clock.now
    e.readings = offload_readings.Readings({})
    e.state = OffloadState(fenced=frozenset({"head"}), over={("head", "cpu"): OVER})
    e.still = StillRunningReader()
    monkeypatch.setattr(e.still, "read", lambda fenced, samplers: {})
    return e, ray


def run_ticks(e: OffloadEngine, clock: Clock, seconds: float, tick: float = 1.0) -> None:
    """The controller's loop: a tick every `tick` seconds."""
    end = clock.now + seconds
    while clock.now + tick <= end + 1e-9:
        clock.now += tick
        e.tick()


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


LIVE = OffloadPolicy(enabled=True, rules={"cpu": Rule(80, sustain=3, hysteresis=10, cooldown=0)})
SCOPES = {"head": "ray-processes"}


def busy_head(e: OffloadEngine, ray: dict[str, Any], cpu: Callable[[float], float]) -> None:
    """The head's samplers (one made at each enable) read `cpu` at the engine's time."""
    e.state = OffloadState()
    e.readings.scopes = dict(SCOPES)
    e.readings.start = lambda name, node: RecordedSampler(ray["clock"], cpu)  # type: ignore[method-assign]


def test_dry_run_then_live_with_the_load_on_fences_within_sustain_and_a_tick(
    engine: tuple[OffloadEngine, dict[str, Any]],
) -> None:
    """The issue's case, on the engine's own loop: dry-run decides (no fence in Ray),
    then live with the head still busy fences it once a fresh sustain has passed, within
    sustain + one tick of the switch."""
    e, ray = engine
    clock: Clock = ray["clock"]
    busy_head(e, ray, lambda t: 95.0)
    dry = dataclasses.replace(LIVE, dry_run=True)
    e.set_policy(dry.to_record(), SCOPES)
    run_ticks(e, clock, 10)
    assert [(ev.action, ev.result) for ev in e.events] == [("fence", "dry-run")]
    assert ray["held"] == {}
    clock.now += 0.4  # mid-tick, as a user's switch comes
    switched = clock.now
    answer = e.set_policy(LIVE.to_record(), SCOPES)
    assert answer["changes"] == [] and answer["fenced"] == []
    run_ticks(e, clock, 10)
    fence = [ev for ev in e.events if ev.result.startswith("done: holding")]
    assert len(fence) == 1 and list(ray["held"]) == ["pg0"]
    took = fence[0].time - switched
    assert LIVE.rules["cpu"].sustain <= took <= LIVE.rules["cpu"].sustain + 1.0
    assert fence[0].trigger.held >= LIVE.rules["cpu"].sustain


def test_disable_lifts_at_once_and_reports_what_ray_holds(
    engine: tuple[OffloadEngine, dict[str, Any]],
) -> None:
    e, ray = engine
    busy_head(e, ray, lambda t: 95.0)
    e.set_policy(dataclasses.replace(LIVE, dry_run=True).to_record(), SCOPES)
    e.set_policy(LIVE.to_record(), SCOPES)
    run_ticks(e, ray["clock"], 5)
    assert ray["held"] and e.status()["fenced"] == ["head"]
    answer = e.set_policy(OffloadPolicy(rules=LIVE.rules).to_record(), SCOPES)
    assert ray["held"] == {} and answer["fenced"] == []  # read from Ray, after
    assert [c["message"] for c in answer["changes"]] == [
        "unfence head: auto-offload was turned off (done)"
    ]
    assert not answer["enabled"] and not answer["dry_run"]
    assert e.readings.samplers == {} and e.readings.history == {}
    # Nothing left for the loop to do: no second unfence, no event.
    count = len(e.events)
    run_ticks(e, ray["clock"], 3)
    assert len(e.events) == count


def test_after_a_re_enable_no_event_carries_a_sample_from_before_and_all_are_in_order(
    engine: tuple[OffloadEngine, dict[str, Any]],
) -> None:
    """Over for minutes, disabled, then enabled again two minutes on: the first event
    after comes a full sustain after the re-enable, its reading is from after it, and
    events are stamped with their decisions' times, in order."""
    e, ray = engine
    clock: Clock = ray["clock"]
    start = clock.now
    # Busy until 60 s in, quiet for the disable's two minutes, then busy again.
    busy_head(e, ray, lambda t: 95.0 if t < start + 60 or t >= start + 185 else 20.0)
    e.set_policy(LIVE.to_record(), SCOPES)
    run_ticks(e, clock, 30)
    e.set_policy(OffloadPolicy(rules=LIVE.rules).to_record(), SCOPES)
    clock.now += 150
    again = clock.now
    e.set_policy(LIVE.to_record(), SCOPES)
    assert all(t >= again for t, _ in e.readings.history["head"])
    run_ticks(e, clock, 20)
    after = [ev for ev in e.events if ev.time >= again]
    assert [(ev.action, ev.result.split(":")[0]) for ev in after] == [("fence", "done")]
    assert after[0].time >= start + 185 + 3  # from when it was over again, plus sustain
    assert after[0].trigger.value == 95.0 and after[0].trigger.held == 3
    times = [ev.time for ev in e.events]
    assert times == sorted(times) and [ev.seq for ev in e.events] == sorted(
        ev.seq for ev in e.events
    )


def test_the_same_policy_again_changes_nothing(
    engine: tuple[OffloadEngine, dict[str, Any]],
) -> None:
    """`--enable` twice: the second is no change, so the sustain window runs on."""
    e, ray = engine
    clock: Clock = ray["clock"]
    busy_head(e, ray, lambda t: 95.0)
    e.set_policy(LIVE.to_record(), SCOPES)
    run_ticks(e, clock, 2)
    e.set_policy(LIVE.to_record(), SCOPES)
    run_ticks(e, clock, 1)
    assert [ev.result.split(":")[0] for ev in e.events] == ["done"]


def test_a_fence_found_after_a_restart_is_not_lifted_by_a_new_sampler_s_first_read(
    engine: tuple[OffloadEngine, dict[str, Any]],
) -> None:
    """A new controller restores the head's fence and makes its sampler: that sampler's
    first read (too soon for a CPU figure) is not a "no CPU" reading that lifts it."""
    e, ray = engine
    clock: Clock = ray["clock"]
    e.policy = LIVE
    e.fences, ray["held"], ray["free"] = {"head": ["pg0"]}, {"pg0": ("head", {"CPU": 2.0})}, {}
    e.state = restore(["head"])

    class JustMade(RecordedSampler):
        reads = 0

        def sample(self) -> dict[str, Any]:
            JustMade.reads += 1
            out = super().sample()
            return {k: v for k, v in out.items() if k != "cpu"} if self.reads == 1 else out

    e.readings.start = lambda name, node: JustMade(clock, lambda t: 95.0)  # type: ignore[method-assign]
    run_ticks(e, clock, 5)
    assert JustMade.reads == 5 and list(e.events) == [] and e.fences == {"head": ["pg0"]}
    assert e.live["head"]["cpu"] == 95.0
