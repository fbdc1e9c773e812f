"""The threshold step on recorded sequences: sustain, hysteresis, cooldown."""

from __future__ import annotations

from collections.abc import Iterable

from gridtui.policy.thresholds import Edge, Threshold, Track, step

RULE = Threshold(limit=80, sustain=3, margin=5)


def edges(
    rule: Threshold, readings: Iterable[float], start: float = 0.0
) -> list[tuple[float, Edge]]:
    """Feed one reading a second; the (time, edge) of every step that was not NONE."""
    track, out = Track(), []
    for i, value in enumerate(readings):
        now = start + i
        result = step(rule, track, value, now)
        track = result.track
        if result.edge is not Edge.NONE:
            out.append((now, result.edge))
    return out


def test_a_sustained_rise_triggers_once() -> None:
    assert edges(RULE, [50, 85, 90, 95, 99, 97, 96, 92, 88]) == [(4, Edge.RISE)]


def test_held_counts_the_unbroken_run() -> None:
    track = Track()
    held = []
    for i, value in enumerate([85, 90, 70, 85, 90, 95, 99]):
        result = step(RULE, track, value, float(i))
        track, held = result.track, [*held, result.held]
    assert held == [0, 1, 0, 0, 1, 2, 3]


def test_a_short_spike_does_not_trigger() -> None:
    assert edges(RULE, [50, 99, 99, 99, 50, 99, 99, 99, 50]) == []


def test_oscillation_inside_the_band_never_flaps() -> None:
    readings = [90, 90, 90, 90] + [78, 82] * 20 + [76, 84] * 20
    assert edges(RULE, readings) == [(3, Edge.RISE)]


def test_oscillation_around_the_limit_before_triggering_never_triggers() -> None:
    assert edges(RULE, [79, 81] * 40) == []


def test_falling_below_the_band_clears_and_rearms() -> None:
    readings = [90] * 4 + [70] + [90] * 4
    assert edges(RULE, readings) == [(3, Edge.RISE), (4, Edge.FALL), (8, Edge.RISE)]


def test_cooldown_delays_the_next_rise() -> None:
    rule = Threshold(limit=80, sustain=1, margin=5, cooldown=10)
    readings = [90, 90, 50] + [90] * 12
    assert edges(rule, readings) == [(1, Edge.RISE), (2, Edge.FALL), (11, Edge.RISE)]


def test_no_sustain_triggers_at_the_first_reading() -> None:
    assert edges(Threshold(limit=80), [10, 80, 10]) == [(1, Edge.RISE), (2, Edge.FALL)]


def test_the_state_is_a_value() -> None:
    """The same reading from the same state gives the same answer: nothing hidden."""
    track = Track(above_since=0.0, on=False, last_rise=None)
    assert step(RULE, track, 90, 3.0) == step(RULE, track, 90, 3.0)
    assert track == Track(above_since=0.0)
