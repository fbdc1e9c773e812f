"""One value against a threshold: sustain, hysteresis and cooldown, as state plus a step."""

from __future__ import annotations

import enum
from dataclasses import dataclass


@dataclass(frozen=True)
class Threshold:
    """When a value counts as over its limit.

    It must stay at or above `limit` for `sustain` seconds to trigger (a short spike does
    not); once triggered it stays on until the value falls below `limit - margin` (so a
    value wobbling around the limit does not flap); and it triggers again no sooner than
    `cooldown` seconds after the last time."""

    limit: float
    sustain: float = 0.0
    margin: float = 0.0
    cooldown: float = 0.0


class Edge(enum.Enum):
    NONE = "none"
    RISE = "rise"  # this step triggered
    FALL = "fall"  # this step cleared a triggered value


@dataclass(frozen=True)
class Track:
    """What a step needs to remember about one value; the initial state is `Track()`."""

    above_since: float | None = None
    """When the current unbroken run at or above the limit began."""
    on: bool = False
    """Triggered and not yet cleared."""
    last_rise: float | None = None


@dataclass(frozen=True)
class Step:
    track: Track
    edge: Edge
    held: float
    """Seconds the value has been at or above the limit without a break (0 when below)."""


def step(rule: Threshold, track: Track, value: float, now: float) -> Step:
    """Take one reading at time `now` (any clock, as long as it only moves forward)."""
    if value >= rule.limit:
        since = now if track.above_since is None else track.above_since
        held = now - since
        rested = track.last_rise is None or now - track.last_rise >= rule.cooldown
        if not track.on and held >= rule.sustain and rested:
            return Step(Track(since, True, now), Edge.RISE, held)
        return Step(Track(since, track.on, track.last_rise), Edge.NONE, held)
    if track.on and value < rule.limit - rule.margin:
        return Step(Track(None, False, track.last_rise), Edge.FALL, 0.0)
    return Step(Track(None, track.on, track.last_rise), Edge.NONE, 0.0)
