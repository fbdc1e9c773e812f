"""Auto-offload: the policy, the actions it decides and the events the engine records."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

RESOURCES = ("cpu", "memory", "gpu")
ACTIONS = ("fence", "unfence", "spill", "move", "drain", "undrain")
HEAD = "head"
"""In `watched`, the head node whatever its name (the default)."""
FENCE_PREFIX = "gridtui:fence:"


def fence_name(node: str, part: int = 0) -> str:
    """The named detached placement group that fences `node`: how a successor finds it.
    A top-up (CPU that came free while the node was fenced) is one more group, `#<part>`:
    a placement group cannot grow."""
    return FENCE_PREFIX + node + (f"#{part}" if part else "")


def fenced_node(pg_name: str) -> str | None:
    if not pg_name.startswith(FENCE_PREFIX):
        return None
    return pg_name[len(FENCE_PREFIX) :].partition("#")[0] or None


@dataclass(frozen=True)
class Rule:
    """One resource's limit: percent, seconds above before acting, points below the limit
    before undoing, seconds between two actions."""

    threshold: float
    sustain: float = 10.0
    hysteresis: float = 10.0
    cooldown: float = 30.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.threshold) and 1 <= self.threshold <= 100):
            raise ValueError(f"threshold {self.threshold:g} is not a percent from 1 to 100")
        for name in ("sustain", "hysteresis", "cooldown"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a non-negative number, not {value!r}")

    def to_record(self) -> dict[str, float]:
        return {
            "threshold": self.threshold,
            "sustain": self.sustain,
            "hysteresis": self.hysteresis,
            "cooldown": self.cooldown,
        }

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> Rule:
        return cls(
            **{k: float(data[k]) for k in ("threshold", "sustain", "hysteresis", "cooldown")}
        )


DEFAULT_RULES: Mapping[str, Rule] = {
    "cpu": Rule(80.0),
    "memory": Rule(85.0),
    "gpu": Rule(90.0),
}

DEFAULT_RECORDS = {k: r.to_record() for k, r in DEFAULT_RULES.items()}


@dataclass(frozen=True)
class OffloadPolicy:
    """What the engine runs: off by default, watching the head."""

    enabled: bool = False
    rules: Mapping[str, Rule] = field(default_factory=lambda: dict(DEFAULT_RULES))
    overrides: Mapping[str, Mapping[str, Rule]] = field(default_factory=dict)
    """{node: {resource: rule}}: a node's own rule for a resource replaces the general one."""
    watched: tuple[str, ...] = (HEAD,)
    dry_run: bool = False

    def __post_init__(self) -> None:
        for name in [*self.rules, *(r for o in self.overrides.values() for r in o)]:
            if name not in RESOURCES:
                raise ValueError(f"unknown resource {name!r} (known: {', '.join(RESOURCES)})")

    def rule(self, node: str, resource: str) -> Rule | None:
        own = self.overrides.get(node, {})
        return own.get(resource) or self.rules.get(resource)

    def to_record(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "rules": {k: r.to_record() for k, r in self.rules.items()},
            "overrides": {
                n: {k: r.to_record() for k, r in o.items()} for n, o in self.overrides.items()
            },
            "watched": list(self.watched),
            "dry_run": self.dry_run,
        }

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> OffloadPolicy:
        return cls(
            enabled=bool(data.get("enabled", False)),
            rules={k: Rule.from_record(r) for k, r in data.get("rules", DEFAULT_RECORDS).items()},
            overrides={
                str(n): {k: Rule.from_record(r) for k, r in o.items()}
                for n, o in data.get("overrides", {}).items()
            },
            watched=tuple(str(n) for n in data.get("watched", (HEAD,))),
            dry_run=bool(data.get("dry_run", False)),
        )


REASONS: Mapping[str, str] = {
    "disabled": "auto-offload was turned off",
    "dry-run": "dry-run acts on nothing, so a fence held from before is lifted",
    "unwatched": "the node is no longer watched",
    "restored": "no rule holds the fence any more",
    "fenced": "the node is fenced and CPU or GPU came free on it",
    "drain": "asked by `gridtui node drain`",
    "undrain": "asked by `gridtui node undrain`",
}
"""What a trigger that is not a reading says, by its `metric` (an action's reason)."""


@dataclass(frozen=True)
class Trigger:
    """Why: the metric, its value, the limit it crossed and how long it had held; or, for
    an action that no reading caused, one of REASONS (value, threshold and held are 0)."""

    metric: str
    value: float
    threshold: float
    held: float

    @classmethod
    def because(cls, reason: str) -> Trigger:
        return cls(reason, 0.0, 0.0, 0.0)

    def describe(self) -> str:
        if self.metric not in RESOURCES:
            return REASONS.get(self.metric, self.metric)
        if self.value >= self.threshold:
            return f"{self.metric} {self.value:.0f}% >= {self.threshold:g}% for {self.held:.0f}s"
        return f"{self.metric} {self.value:.0f}% < {self.threshold:g}%"

    def to_record(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "value": self.value,
            "threshold": self.threshold,
            "held": self.held,
        }

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> Trigger:
        return cls(
            str(data["metric"]), float(data["value"]), float(data["threshold"]), float(data["held"])
        )


@dataclass(frozen=True)
class OffloadAction:
    kind: str
    """fence, unfence or spill (the policy's); move, drain, undrain are the engine's own."""
    node: str
    trigger: Trigger
    time: float
    dry_run: bool = False


@dataclass(frozen=True)
class OffloadEvent:
    """One action as the engine carried it out (or, in dry-run, would have)."""

    seq: int
    time: float
    node: str
    trigger: Trigger
    action: str
    result: str
    """done, dry-run, or failed: <why>."""

    @property
    def message(self) -> str:
        return f"{self.action} {self.node}: {self.trigger.describe()} ({self.result})"

    def to_record(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "node": self.node,
            "trigger": self.trigger.to_record(),
            "action": self.action,
            "result": self.result,
            "message": self.message,
        }

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> OffloadEvent:
        return cls(
            int(data["seq"]),
            float(data["time"]),
            str(data["node"]),
            Trigger.from_record(data["trigger"]),
            str(data["action"]),
            str(data["result"]),
        )
