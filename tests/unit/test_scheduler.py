"""Scheduler strategies on tables of node views: picks, splits, reasons and refusals."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridtui.model.reservations import NodeView
from gridtui.policy.scheduler import STRATEGIES, NoPlacement, choose, place


def node(name: str, cpu_free: float, cpu_total: float = 8, **kw: object) -> NodeView:
    return NodeView(name=name, cpu_free=cpu_free, cpu_total=cpu_total, **kw)  # type: ignore[arg-type]


GiB = 1024**3
TABLE = [
    node(
        "head", 4, role="head", cpu_util=30.0, mem_util=20.0, mem_total=16 * GiB, mem_free=8 * GiB
    ),
    node("w1", 2, cpu_util=10.0, mem_util=50.0, mem_total=16 * GiB, mem_free=4 * GiB),
    node("w2", 8, state="STALE", cpu_util=0.0, mem_total=64 * GiB, mem_free=64 * GiB),
    node("w3", 8, state="DOWN", mem_total=64 * GiB, mem_free=64 * GiB),
    node("w4", 6, cpu_util=70.0, mem_util=10.0, mem_total=32 * GiB, mem_free=30 * GiB),
]


def test_best_fit_takes_the_tightest_node_and_never_a_stale_or_down_one() -> None:
    p = choose(TABLE, "cpu", 2, "best-fit")
    assert p.bundles == (("w1", 2),)
    assert "tightest fit" in p.reason and "live figures" in p.reason
    # 7 CPUs: only w2/w3 (STALE, DOWN) have that much in one piece; the split uses UP nodes.
    p = choose(TABLE, "cpu", 7, "best-fit")
    assert p.bundles == (("w4", 6), ("head", 1))
    assert "split largest-free first" in p.reason


def test_amounts_that_must_split_keep_whole_units_when_whole() -> None:
    table = [node("a", 1.5), node("b", 1.5), node("c", 1.5)]
    assert choose(table, "cpu", 3, "best-fit").bundles == (("a", 1), ("b", 1), ("c", 1))
    # A fractional amount splits at Ray's grain.
    assert choose(table, "cpu", 2.5, "best-fit").bundles == (("a", 1.5), ("b", 1.0))
    with pytest.raises(NoPlacement, match=r"only 4.5 CPU free on eligible nodes .*asked 5 CPU"):
        choose(table, "cpu", 5, "best-fit")


def test_split_can_be_forbidden() -> None:
    with pytest.raises(NoPlacement, match=r"no node has 7 CPU free \(most: w4 6 CPU\)"):
        choose(TABLE, "cpu", 7, "best-fit", split=False)


def test_load_balanced_uses_live_utilisation_then_rays_reserved_share() -> None:
    p = choose(TABLE, "cpu", 1, "load-balanced")
    assert p.bundles == (("w1", 1),)  # 10% beats head 30% and w4 70%
    assert "live utilisation" in p.reason
    dark = [node("a", 2, 8), node("b", 6, 8), node("c", 1, 2)]
    p = choose(dark, "cpu", 1, "load-balanced")
    assert p.bundles == (("b", 1),)  # 25% reserved beats 50% and 75%
    assert "Ray reserved" in p.reason and "Ray figures only (no live metrics)" in p.reason


def test_spread_is_even_one_bundle_per_node() -> None:
    table = [node("a", 4), node("b", 4), node("c", 4), node("d", 4, state="DOWN")]
    p = choose(table, "cpu", 3, "spread")
    assert sorted(p.bundles) == [("a", 1), ("b", 1), ("c", 1)]
    # Fewer units than nodes: the least loaded nodes take one each.
    loaded = [node("a", 4, cpu_util=90.0), node("b", 4, cpu_util=5.0), node("c", 4, cpu_util=20.0)]
    assert sorted(choose(loaded, "cpu", 2, "spread").nodes) == ["b", "c"]
    # Water-filling: a small node gives what it has, the others share the rest.
    uneven = [node("a", 1), node("b", 4), node("c", 4)]
    p = choose(uneven, "cpu", 6, "spread")
    assert dict(p.bundles)["a"] == 1 and sorted(dict(p.bundles).values()) == [1, 2.0, 3.0]
    assert math.isclose(sum(a for _, a in p.bundles), 6)
    assert "even over 3 of 3 eligible nodes" in p.reason


def test_local_first_prefers_the_head_until_it_is_pressured_or_small() -> None:
    p = choose(TABLE, "cpu", 2, "local-first")
    assert p.bundles == (("head", 2),) and "under its pressure threshold" in p.reason
    hot = [node("head", 4, role="head", cpu_util=95.0), node("w1", 2), node("w2", 3)]
    p = choose(hot, "cpu", 2, "local-first")
    assert p.bundles == (("w1", 2),)
    assert "over its pressure threshold (95% >= 80%)" in p.reason
    small = [node("head", 0.5, role="head"), node("w1", 2)]
    p = choose(small, "cpu", 1, "local-first")
    assert p.bundles == (("w1", 1),) and "has only 0.5 CPU free" in p.reason
    down = [node("head", 4, role="head", state="DOWN"), node("w1", 2)]
    assert "head head is DOWN" in choose(down, "cpu", 1, "local-first").reason


def test_local_first_treats_a_head_busy_for_auto_offload_as_busy() -> None:
    # Fenced: Ray may even show CPU free on it (a top-up pending); the head is skipped.
    fenced = [node("head", 4, role="head", cpu_util=5.0, busy="fenced"), node("w1", 2)]
    p = choose(fenced, "cpu", 1, "local-first")
    assert p.bundles == (("w1", 1),)
    assert "head head is busy for auto-offload (fenced)" in p.reason
    # Over its offload threshold (40%) though under the scheduler's own 80%.
    over = [node("head", 4, role="head", cpu_util=50.0, busy="cpu 50% >= 40%"), node("w1", 2)]
    p = place(over, {"cpu": 1}, "local-first")
    assert p.bundles == (("w1", 1),) and "cpu 50% >= 40%" in p.reason
    # Not busy: the head again.
    calm = [node("head", 4, role="head", cpu_util=50.0), node("w1", 2)]
    assert choose(calm, "cpu", 1, "local-first").bundles == (("head", 1),)


def test_gpu_affinity_keeps_gpu_nodes_for_gpu_work() -> None:
    table = [
        node("cpu-a", 4),
        node("gpu-a", 8, gpu_total=2, gpu_free=2, gpu_util=80.0),
        node("gpu-b", 8, gpu_total=4, gpu_free=1, gpu_util=10.0),
        node("gpu-c", 8, gpu_total=4, gpu_free=4, gpu_util=5.0, state="STALE"),
    ]
    p = choose(table, "gpu", 1, "gpu-affinity")
    assert p.bundles == (("gpu-b", 1),)  # least busy GPU node that is UP
    assert choose(table, "cpu", 2, "gpu-affinity").bundles == (("cpu-a", 2),)
    p = choose(table, "cpu", 6, "gpu-affinity")
    assert p.nodes == ("gpu-a",) and "GPU nodes too" in p.reason


def test_nodes_without_gpus_are_never_chosen_for_gpus() -> None:
    table = [node("a", 4), node("b", 4, gpu_total=1, gpu_free=1, state="DOWN")]
    for strategy in STRATEGIES:
        with pytest.raises(NoPlacement, match="no node can take gpu now: a has no GPU, b DOWN"):
            choose(table, "gpu", 1, strategy)


def test_memory_is_in_bytes() -> None:
    p = choose(TABLE, "memory", 10 * GiB, "best-fit")
    assert p.bundles == (("w4", 10 * GiB),)
    assert "20 GiB left free" in p.reason


def test_place_needs_one_node_that_fits_everything() -> None:
    table = [
        node("a", 4, gpu_total=1, gpu_free=0),
        node("b", 1, gpu_total=1, gpu_free=1),
        node("c", 8, gpu_total=2, gpu_free=2, state="STALE"),
    ]
    p = place(table, {"cpu": 1, "gpu": 1}, "best-fit")
    assert p.nodes == ("b",) and p.type == "gpu"
    with pytest.raises(NoPlacement, match="no UP node has 2 CPU, 1 GPU free"):
        place(table, {"cpu": 2, "gpu": 1})


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="unknown strategy 'fastest'"):
        choose(TABLE, "cpu", 1, "fastest")
    with pytest.raises(NoPlacement, match="positive and finite"):
        choose(TABLE, "cpu", math.nan)
    with pytest.raises(NoPlacement, match="no nodes to choose from"):
        choose([], "cpu", 1)


views = st.lists(
    st.builds(
        NodeView,
        name=st.text("abcdefgh", min_size=1, max_size=4),
        role=st.sampled_from(["head", "worker"]),
        state=st.sampled_from(["UP", "UP", "STALE", "DOWN"]),
        cpu_total=st.just(8.0),
        cpu_free=st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.5, 8.0]),
        cpu_util=st.one_of(st.none(), st.floats(0, 100)),
    ),
    max_size=8,
    unique_by=lambda v: v.name,
)


@settings(max_examples=300, deadline=None)
@given(
    table=views,
    amount=st.sampled_from([0.5, 1.0, 2.0, 3.0, 7.5]),
    strategy=st.sampled_from(STRATEGIES),
)
def test_any_answer_is_sound(table: list[NodeView], amount: float, strategy: str) -> None:
    """Whatever the table: only UP nodes, one bundle per node, each within its free,
    summing to the amount; or a NoPlacement."""
    grain = 1.0 if amount == int(amount) else 0.0001
    pool = [v for v in table if v.state == "UP"]
    head = next((v for v in table if v.role == "head"), None)
    if strategy == "local-first" and head is not None:
        if head.state == "UP" and head.cpu_free >= amount and (head.cpu_util or 0) < 80:
            pool = [head]
        else:
            pool = [v for v in pool if v is not head]
    capacity = sum(math.floor(v.cpu_free / grain + 1e-6) for v in pool)
    try:
        p = choose(table, "cpu", amount, strategy)
    except NoPlacement:
        assert capacity < round(amount / grain)
        return
    assert capacity >= round(amount / grain)
    by_name = {v.name: v for v in table}
    assert len(set(p.nodes)) == len(p.nodes)
    for name, got in p.bundles:
        assert by_name[name].state == "UP"
        assert 0 < got <= by_name[name].cpu_free + 1e-9
    assert math.isclose(sum(a for _, a in p.bundles), amount)
