"""Threshold tuning: the offload policy replayed on a recorded history, at a candidate value."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from gridtui.model.offload import HEAD, OffloadPolicy, Rule
from gridtui.policy.offload import OffloadState, Sample, decide


@dataclass(frozen=True)
class Replay:
    """What the engine would have done over the history with this one rule."""

    fences: tuple[float, ...] = ()
    """Times it would have fenced the node."""
    lifts: tuple[float, ...] = ()
    """Times it would have lifted that fence."""
    fenced_now: bool = False
    """Fenced at the end of the history: applying the value would trigger now."""


def series(count: int, interval: float, end: float) -> list[float]:
    """The times of `count` samples taken every `interval` seconds up to `end`."""
    return [end - (count - 1 - i) * interval for i in range(count)]


def replay(
    times: Sequence[float], values: Sequence[float], node: str, resource: str, rule: Rule
) -> Replay:
    """Run the engine's own decide() over one node's history of one resource.

    Only `resource`'s rule is in the policy, so every fence is that resource's doing."""
    if not values:
        return Replay()
    policy = OffloadPolicy(enabled=True, rules={resource: rule}, watched=(node,))
    samples: list[Sample] = [(t, {resource: v}) for t, v in zip(times, values, strict=True)]
    actions, state = decide({node: samples}, policy, OffloadState(), times[-1])
    return Replay(
        tuple(a.time for a in actions if a.kind == "fence"),
        tuple(a.time for a in actions if a.kind == "unfence"),
        node in state.fenced,
    )


def override_key(policy: OffloadPolicy, node: str, resource: str, head: str) -> str | None:
    """The `overrides` entry that governs `resource` on `node` (the head may be under its
    alias), or None when the general rule does."""
    for key in (node, HEAD if node == head else None):
        if key is not None and resource in policy.overrides.get(key, {}):
            return key
    return None


def governing(policy: OffloadPolicy, node: str, resource: str, head: str) -> Rule | None:
    key = override_key(policy, node, resource, head)
    return policy.overrides[key][resource] if key is not None else policy.rules.get(resource)


def with_threshold(
    policy: OffloadPolicy, node: str, resource: str, value: float, head: str
) -> OffloadPolicy:
    """`policy` with the threshold that governs `resource` on `node` set to `value`;
    ValueError when it cannot be (out of 1-100, or at or under its hysteresis)."""
    key = override_key(policy, node, resource, head)
    old = governing(policy, node, resource, head) or Rule(value)
    if old.hysteresis >= value:
        raise ValueError(
            f"{resource} {value:g}% is at or under its hysteresis ({old.hysteresis:g} points): "
            "a fence would never lift"
        )
    rule = dataclasses.replace(old, threshold=value)
    if key is None:
        return dataclasses.replace(policy, rules={**policy.rules, resource: rule})
    own = {**policy.overrides[key], resource: rule}
    return dataclasses.replace(policy, overrides={**policy.overrides, key: own})
