"""Auto-offload decisions on recorded traces: sustain, hysteresis, cooldown, overrides, dry-run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridtui.model.offload import (
    REASONS,
    OffloadAction,
    OffloadEvent,
    OffloadPolicy,
    Rule,
    Trigger,
    fence_name,
    fenced_node,
)
from gridtui.policy.offload import OffloadState, Sample, decide, restart, restore

CPU = Rule(threshold=70, sustain=3, hysteresis=10, cooldown=0)
POLICY = OffloadPolicy(enabled=True, rules={"cpu": CPU}, watched=("head",))


def trace(values: Iterable[float], resource: str = "cpu", start: float = 0.0) -> list[Sample]:
    """One reading a second."""
    return [(start + i, {resource: v}) for i, v in enumerate(values)]


def run(
    history: Mapping[str, Sequence[Sample]],
    policy: OffloadPolicy = POLICY,
    chunk: int = 1,
    state: OffloadState | None = None,
) -> tuple[list[OffloadAction], OffloadState]:
    """Decide as the engine does: the history grows `chunk` samples per call."""
    state = state or OffloadState()
    longest = max(len(s) for s in history.values())
    out: list[OffloadAction] = []
    for end in range(chunk, longest + chunk, chunk):
        seen = {n: s[:end] for n, s in history.items()}
        actions, state = decide(seen, policy, state, float(end))
        out += actions
    return out, state


def kinds(actions: Iterable[OffloadAction]) -> list[tuple[float, str, str]]:
    return [(a.time, a.kind, a.node) for a in actions]


def test_a_sustained_rise_fences_once_and_clears_below_the_band() -> None:
    actions, state = run({"head": trace([20, 75, 80, 90, 95, 99, 90, 65, 55, 40])})
    assert kinds(actions) == [(4, "fence", "head"), (8, "unfence", "head")]
    fence = actions[0].trigger
    assert (fence.metric, fence.value, fence.threshold, fence.held) == ("cpu", 95, 70, 3)
    assert "cpu 95% >= 70% for 3s" in fence.describe()
    assert actions[1].trigger.threshold == 60  # 70 minus the hysteresis
    assert state.fenced == frozenset()


@pytest.mark.parametrize("chunk", [1, 3, 100])
def test_the_decision_does_not_depend_on_how_the_history_arrives(chunk: int) -> None:
    values = [20, 75, 80, 90, 95, 99, 90, 65, 55, 40, 80, 80, 80, 80, 30]
    one, _ = run({"head": trace(values)}, chunk=1)
    other, _ = run({"head": trace(values)}, chunk=chunk)
    assert kinds(one) == kinds(other)


def test_a_spike_shorter_than_the_sustain_does_nothing() -> None:
    actions, _ = run({"head": trace([20, 99, 99, 99, 20, 99, 99, 20, 99, 99, 99, 30])})
    assert actions == []


def test_a_noisy_signal_inside_the_band_never_flaps() -> None:
    # Over for long enough once, then wobbling between 61 and 78: above the clear line (60).
    noisy = [90] * 5 + [61, 78, 62, 77, 63, 76, 61, 79, 60.5, 75] * 10
    actions, state = run({"head": trace(noisy)})
    assert kinds(actions) == [(3, "fence", "head")]
    assert state.fenced == {"head"}


def test_cooldown_spaces_two_fences() -> None:
    rule = Rule(threshold=70, sustain=0, hysteresis=10, cooldown=10)
    policy = OffloadPolicy(enabled=True, rules={"cpu": rule})
    actions, _ = run({"head": trace([90, 20, 90, 20, 90, 90, 90, 90, 90, 90, 90, 90, 20])}, policy)
    assert kinds(actions) == [(0, "fence", "head"), (1, "unfence", "head"),
                              (10, "fence", "head"), (12, "unfence", "head")]  # fmt: skip


def test_a_node_override_replaces_the_general_rule() -> None:
    policy = OffloadPolicy(
        enabled=True,
        rules={"cpu": CPU},
        overrides={"w1": {"cpu": Rule(threshold=95, sustain=3, hysteresis=10, cooldown=0)}},
        watched=("head", "w1"),
    )
    busy = trace([90] * 8)
    actions, _ = run({"head": busy, "w1": busy}, policy)
    assert kinds(actions) == [(3, "fence", "head")]


def test_unwatched_nodes_are_not_touched() -> None:
    actions, _ = run({"head": trace([20] * 8), "w1": trace([99] * 8)})
    assert actions == []


def test_dry_run_decides_but_marks_every_action() -> None:
    policy = OffloadPolicy(enabled=True, rules={"cpu": CPU}, dry_run=True)
    actions, _ = run({"head": trace([90] * 6 + [10])}, policy)
    assert kinds(actions) == [(3, "fence", "head"), (6, "unfence", "head")]
    assert all(a.dry_run for a in actions)


def test_memory_pressure_fences_and_spills() -> None:
    policy = OffloadPolicy(enabled=True, rules={"memory": Rule(80, 2, 5, 0)})
    actions, _ = run({"head": trace([90] * 4, "memory")}, policy)
    assert kinds(actions) == [(2, "fence", "head"), (2, "spill", "head")]


def test_two_resources_hold_one_fence_until_both_clear() -> None:
    policy = OffloadPolicy(
        enabled=True, rules={"cpu": Rule(70, 0, 10, 0), "gpu": Rule(70, 0, 10, 0)}
    )
    samples = [(1.0, {"cpu": 90, "gpu": 10}), (2.0, {"cpu": 90, "gpu": 90}),
               (3.0, {"cpu": 10, "gpu": 90}), (4.0, {"cpu": 10, "gpu": 10})]  # fmt: skip
    actions, _ = run({"head": samples}, policy)
    assert kinds(actions) == [(1, "fence", "head"), (4, "unfence", "head")]


def test_dry_run_then_live_starts_a_fresh_sustain_and_fences() -> None:
    """The issue's case: dry-run decided (no real fence), then live with the load still
    on. Live fences for itself, a full sustain after the switch, not never."""
    dry = OffloadPolicy(enabled=True, rules={"cpu": CPU}, dry_run=True)
    busy = trace([90] * 30)
    actions, state = run({"head": busy[:10]}, dry)
    assert kinds(actions) == [(3, "fence", "head")] and actions[0].dry_run
    assert state.fenced == {"head"}  # would be: held by no real fence
    undone, state = restart(POLICY, held=(), now=10.5)
    assert undone == [] and state.fenced == frozenset() and state.since == 10.5
    actions, state = run({"head": busy}, POLICY, state=state)
    assert kinds(actions) == [(14, "fence", "head")]  # 11 (first sample after) + 3
    assert not actions[0].dry_run and actions[0].trigger.held == 3


def test_every_policy_change_starts_every_sustain_window_afresh() -> None:
    """New thresholds mid-run: the time already spent over the old one does not count."""
    _, state = run({"head": trace([90] * 3)})  # over for 2 s of a 3 s sustain
    assert state.fenced == frozenset()
    lower = OffloadPolicy(enabled=True, rules={"cpu": Rule(60, 3, 10, 0)})
    _, state = restart(lower, held=(), now=3.0)
    actions, _ = run({"head": trace([90] * 10)}, lower, state=state)
    assert kinds(actions) == [(6, "fence", "head")]


def test_no_sample_from_before_a_change_is_stepped_after_it() -> None:
    """Samples of two minutes before a disable are still in the history on re-enable:
    none is stepped, so no action (and no trigger) carries their time or value."""
    old = [(float(t), {"cpu": 99.0}) for t in range(0, 10)]
    _, state = restart(POLICY, held=(), now=130.0)
    new = [(130.0 + t, {"cpu": 20.0 if t < 2 else 95.0}) for t in range(10)]
    actions, state = decide({"head": old + new}, POLICY, state, 140.0)
    assert kinds(actions) == [(135, "fence", "head")]
    assert actions[0].trigger.held == 3 and actions[0].trigger.value == 95
    # Only samples at or after the change were stepped: the old ones left no track.
    assert state.tracks[("head", "cpu")].above_since == 132.0


def test_a_change_keeps_a_real_fence_while_still_over_and_lifts_what_it_must() -> None:
    _, state = run({"head": trace([90] * 6)})
    assert state.fenced == {"head"}
    # New thresholds: kept, until below the new band (each resource counts as over).
    undone, kept = restart(POLICY, held=["head"], now=6.0)
    assert undone == [] and kept.fenced == {"head"}
    actions, kept = decide({"head": trace([65, 65], start=6)}, POLICY, kept, 8.0)
    assert actions == []
    actions, _ = decide({"head": trace([65, 65, 30], start=6)}, POLICY, kept, 9.0)
    assert kinds(actions) == [(8, "unfence", "head")]
    # Off, unwatched or dry-run: lifted at once, each with its reason.
    for policy, why in [
        (OffloadPolicy(enabled=False, rules={"cpu": CPU}), "auto-offload was turned off"),
        (OffloadPolicy(enabled=True, rules={"cpu": CPU}, watched=("w1",)),
         "the node is no longer watched"),
        (OffloadPolicy(enabled=True, rules={"cpu": CPU}, dry_run=True),
         "dry-run acts on nothing, so a fence held from before is lifted"),
    ]:  # fmt: skip
        undone, after = restart(policy, held=["head"], now=6.0)
        assert [(a.kind, a.node, a.time, a.dry_run) for a in undone] == [
            ("unfence", "head", 6.0, False)
        ]
        assert undone[0].trigger.describe() == why and after.fenced == frozenset()


def test_every_reason_reads_as_a_sentence() -> None:
    """Actions that no reading caused (turned off, drain, a top-up...) say why in words,
    never `disabled 0% >= 0% for 0s`."""
    for reason in REASONS:
        event = OffloadEvent(1, 1.0, "head", Trigger.because(reason), "unfence", "done")
        text = event.message
        assert "%" not in text and " 0s" not in text and REASONS[reason] in text
        assert text.startswith("unfence head: ") and text.endswith(" (done)")
    assert Trigger("cpu", 88, 80, 11).describe() == "cpu 88% >= 80% for 11s"


def test_disabling_lifts_every_fence() -> None:
    _, state = run({"head": trace([90] * 6)})
    assert state.fenced == {"head"}
    off = OffloadPolicy(enabled=False, rules={"cpu": CPU})
    actions, state = decide({"head": trace([90] * 7)}, off, state, 7.0)
    assert [(a.kind, a.trigger.metric) for a in actions] == [("unfence", "disabled")]
    assert state.fenced == frozenset() and not state.tracks


def test_a_restored_fence_lifts_once_its_node_is_quiet() -> None:
    state = restore(["head"])
    actions, state = decide({"head": trace([65, 65])}, POLICY, state, 2.0)
    assert actions == []  # inside the band: kept
    actions, state = decide({"head": trace([65, 65, 30])}, POLICY, state, 3.0)
    assert kinds(actions) == [(2, "unfence", "head")]


def test_a_rule_added_after_a_restored_fence_starts_afresh() -> None:
    # Restored with a cpu-only policy: memory has no rule, so it must remember nothing,
    # or a memory rule added later would find its track "on" and never trigger.
    cpu_only = OffloadPolicy(enabled=True, rules={"cpu": Rule(70, 0, 10, 0)})
    actions, state = decide({"head": trace([30])}, cpu_only, restore(["head"]), 1.0)
    assert kinds(actions) == [(0, "unfence", "head")]
    memory = OffloadPolicy(enabled=True, rules={"memory": Rule(50, 0, 10, 0)})
    samples = [(1.0, {"cpu": 30, "memory": 60})]
    actions, state = decide({"head": [*trace([30]), *samples]}, memory, state, 2.0)
    assert kinds(actions) == [(1, "fence", "head"), (1, "spill", "head")]


def test_bad_rules_and_resources_are_refused() -> None:
    with pytest.raises(ValueError, match="1 to 100"):
        Rule(threshold=0)
    with pytest.raises(ValueError, match="1 to 100"):
        Rule(threshold=101)
    with pytest.raises(ValueError, match="sustain"):
        Rule(threshold=50, sustain=-1)
    with pytest.raises(ValueError, match="unknown resource 'disk'"):
        OffloadPolicy(rules={"disk": Rule(50)})


def test_records_round_trip() -> None:
    policy = OffloadPolicy(
        enabled=True,
        rules={"cpu": CPU},
        overrides={"w1": {"gpu": Rule(90)}},
        watched=("head", "w1"),
        dry_run=True,
    )
    assert OffloadPolicy.from_record(policy.to_record()) == policy
    event = OffloadEvent(3, 12.5, "head", Trigger("cpu", 91, 70, 10), "fence", "done")
    assert OffloadEvent.from_record(event.to_record()) == event
    assert fenced_node(fence_name("head")) == "head"
    # A top-up is one more group for the same node.
    assert fence_name("worker-1", 2) == "gridtui:fence:worker-1#2"
    assert fenced_node(fence_name("worker-1", 2)) == "worker-1"
    assert fenced_node("gridtui:boost:b1") is None


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(min_value=0, max_value=100), min_size=1, max_size=200),
    st.floats(min_value=1, max_value=100),
    st.floats(min_value=1, max_value=50),
    st.integers(min_value=0, max_value=5),
)
def test_decisions_never_flap_inside_the_band(
    values: list[float], threshold: float, hysteresis: float, sustain: int
) -> None:
    """Between a fence and its lift the value went below threshold - hysteresis, and
    between a lift and the next fence it held at or above the threshold for the sustain."""
    rule = Rule(threshold=threshold, sustain=sustain, hysteresis=hysteresis, cooldown=0)
    policy = OffloadPolicy(enabled=True, rules={"cpu": rule})
    actions, _ = run({"head": trace(values)}, policy)
    assert [a.kind for a in actions] == ["fence", "unfence"] * (len(actions) // 2) + (
        ["fence"] if len(actions) % 2 else []
    )
    for action in actions:
        at = int(action.time)
        if action.kind == "unfence":
            assert values[at] < threshold - hysteresis
        else:
            run_start = at - sustain
            assert run_start >= 0 and all(v >= threshold for v in values[run_start : at + 1])
