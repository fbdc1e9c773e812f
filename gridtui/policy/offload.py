"""Auto-offload decisions: a pure function of metric history, policy and state; it never acts."""

from __future__ import annotations

import dataclasses
import math
from bisect import bisect_left, bisect_right
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from gridtui.model.offload import RESOURCES, OffloadAction, OffloadPolicy, Rule, Trigger
from gridtui.policy.thresholds import Edge, Threshold, Track, step

Sample = tuple[float, Mapping[str, float]]
"""(time, {resource: percent}); a resource the node lacks (no GPU) is left out."""


@dataclass(frozen=True)
class OffloadState:
    """What `decide` remembers between calls; the initial state is `OffloadState()`."""

    tracks: Mapping[tuple[str, str], Track] = field(default_factory=dict)
    seen: Mapping[str, float] = field(default_factory=dict)
    """Per node, the time of the newest sample already stepped (older ones are skipped)."""
    fenced: frozenset[str] = frozenset()
    """Nodes fenced (or, in dry-run, that would be)."""
    over: Mapping[tuple[str, str], Trigger] = field(default_factory=dict)
    """The trigger of each (node, resource) that is on."""
    since: float = -math.inf
    """When the running policy (and mode) began: older samples are never stepped."""


_IDLE = Track()


def _threshold(rule: Rule) -> Threshold:
    return Threshold(rule.threshold, rule.sustain, rule.hysteresis, rule.cooldown)


def decide(
    history: Mapping[str, Sequence[Sample]],
    policy: OffloadPolicy,
    state: OffloadState,
    now: float,
) -> tuple[list[OffloadAction], OffloadState]:
    """Step every watched node's new samples (time-ordered) through its rules.

    A node is fenced when its first resource triggers (sustained above the threshold,
    cooldown rested) and unfenced when the last one clears (below threshold minus
    hysteresis); a memory trigger also asks for a spill. `policy.watched` names nodes
    (the caller resolves the head's alias). A disabled policy, or a node no longer
    watched, unfences what is fenced. Samples taken before `state.since` (under an earlier
    policy or mode) are skipped: a change starts every sustain window afresh (`restart`)."""
    tracks = dict(state.tracks)
    seen = dict(state.seen)
    over = dict(state.over)
    held: dict[str, int] = {}  # per node, how many of its resources are on in `over`
    for n, _ in over:
        held[n] = held.get(n, 0) + 1

    def drop(key: tuple[str, str]) -> None:
        if over.pop(key, None) is not None:
            held[key[0]] -= 1

    fenced = set(state.fenced)
    actions: list[OffloadAction] = []
    made: dict[int, Threshold] = {}  # one Threshold per rule (the policy holds them all)
    watched = set(policy.watched) if policy.enabled else set()
    for node in sorted(fenced - watched):
        why = "disabled" if not policy.enabled else "unwatched"
        actions.append(OffloadAction("unfence", node, Trigger.because(why), now, policy.dry_run))
        fenced.discard(node)
        for resource in RESOURCES:
            tracks.pop((node, resource), None)
            drop((node, resource))
        seen.pop(node, None)
    for node in sorted(watched):
        samples = history.get(node, ())
        start = bisect_left(samples, state.since, key=lambda s: s[0])
        if node in seen:
            start = max(start, bisect_right(samples, seen[node], key=lambda s: s[0]))
        rules = []
        for resource in RESOURCES:
            rule = policy.rule(node, resource)
            if rule is not None:
                limit = made.get(id(rule))
                if limit is None:
                    limit = made[id(rule)] = _threshold(rule)
                rules.append((resource, rule, limit, (node, resource)))
            else:
                # No rule holds no fence, and remembers nothing: a rule added later
                # starts afresh (a restored fence marks every resource on).
                drop((node, resource))
                tracks.pop((node, resource), None)
        for when, values in samples[start:]:
            for resource, rule, limit, key in rules:
                value = values.get(resource)
                if value is None:
                    if key in over:
                        drop(key)  # a resource the node lacks holds no fence
                    continue
                track = tracks.get(key, _IDLE)
                # The common readings change nothing: skip the step's allocations.
                if value < limit.limit:
                    if track is _IDLE or (not track.on and track.above_since is None):
                        continue
                elif track.on and track.above_since is not None:
                    continue
                result = step(limit, track, value, when)
                tracks[key] = result.track
                if result.edge is Edge.RISE:
                    trigger = Trigger(resource, value, rule.threshold, result.held)
                    if key not in over:
                        held[node] = held.get(node, 0) + 1
                    over[key] = trigger
                    if node not in fenced:
                        fenced.add(node)
                        actions.append(OffloadAction("fence", node, trigger, when, policy.dry_run))
                    if resource == "memory":
                        actions.append(OffloadAction("spill", node, trigger, when, policy.dry_run))
                elif result.edge is Edge.FALL:
                    drop(key)
                    if node in fenced and not held.get(node):
                        fenced.discard(node)
                        lift = rule.threshold - rule.hysteresis
                        trigger = Trigger(resource, value, lift, 0.0)
                        actions.append(
                            OffloadAction("unfence", node, trigger, when, policy.dry_run)
                        )
            seen[node] = when
            if node in fenced and not held.get(node):
                fenced.discard(node)  # what held the fence is gone (a restored fence)
                trigger = Trigger.because("restored")
                actions.append(OffloadAction("unfence", node, trigger, when, policy.dry_run))
    new = OffloadState(tracks, seen, frozenset(fenced), over, state.since)
    return actions, new


def restart(
    policy: OffloadPolicy, held: Collection[str], now: float
) -> tuple[list[OffloadAction], OffloadState]:
    """The state for a new policy or mode, from `now` on: every sustain window and
    cooldown starts afresh, and nothing sampled before `now` is stepped again.

    `held` are the nodes with a real fence (placed in Ray for pressure). One the new
    policy watches, live, stays fenced, each of its resources counting as over until it
    falls below the new threshold minus the hysteresis (as after a restart); every other
    is unfenced now: auto-offload turned off, the node unwatched, or dry-run (which acts
    on nothing). What an earlier dry-run only decided is forgotten: live, the engine
    fences for itself once its sustain time has passed."""
    watched = set(policy.watched) if policy.enabled else set()
    keep = sorted(n for n in held if n in watched and not policy.dry_run)
    actions = []
    for node in sorted(set(held) - set(keep)):
        why = "disabled" if not policy.enabled else "dry-run" if node in watched else "unwatched"
        actions.append(OffloadAction("unfence", node, Trigger.because(why), now))
    return actions, dataclasses.replace(restore(keep), since=now)


def restore(fenced: Sequence[str]) -> OffloadState:
    """The state for fences found in Ray's table after a restart: every resource counts
    as over, so each must fall below its threshold minus the hysteresis to lift it."""
    tracks = {(n, r): Track(on=True) for n in fenced for r in RESOURCES}
    over = {(n, r): Trigger("restored", 0.0, 0.0, 0.0) for n in fenced for r in RESOURCES}
    return OffloadState(tracks, {}, frozenset(fenced), over)
