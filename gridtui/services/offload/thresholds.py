"""The offload policy as the CLI and the REST API change it: checked thresholds, one shape."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from gridtui.errors import BadOffloadFlag
from gridtui.model.numbers import parse_float
from gridtui.model.offload import RESOURCES, OffloadPolicy, Rule
from gridtui.model.still_running import StillRunning

if TYPE_CHECKING:
    from gridtui.services.control.calls import ControlCalls

# A bare `--threshold 70` sets memory's, as the seed's `grid offload auto` did.
BARE_RESOURCE = "memory"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$", re.ASCII)
_UNITS = {None: 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_thresholds(texts: Sequence[str]) -> dict[str, float]:
    """{resource: percent} from `70` or `cpu=80`; BadOffloadFlag names the bad one."""
    out: dict[str, float] = {}
    for text in texts:
        name, sep, raw = text.partition("=")
        resource = name.strip().lower() if sep else BARE_RESOURCE
        raw = raw if sep else text
        if resource not in RESOURCES:
            raise BadOffloadFlag(
                f"--threshold {text!r}: unknown resource {name.strip()!r} "
                f"(known: {', '.join(RESOURCES)})"
            )
        try:
            # `80%` is read as 80 on purpose (one `%`): the value is a percent anyway.
            value = parse_float(raw.strip(" ").removesuffix("%"))
        except ValueError:
            raise BadOffloadFlag(
                f"--threshold {text!r}: expected a percent from 1 to 100, such as cpu=80"
            ) from None
        if not (math.isfinite(value) and 1 <= value <= 100):
            raise BadOffloadFlag(
                f"--threshold {text!r}: {raw.strip()} is out of range: expected 1 to 100 percent"
            )
        out[resource] = value
    return out


def parse_sustain(text: str) -> float:
    match = _DURATION.match(text)
    seconds = float(match.group(1)) * _UNITS[match.group(2)] if match else math.nan
    if not (math.isfinite(seconds) and 0 <= seconds <= 3600):
        raise BadOffloadFlag(f"--sustain {text!r}: expected a duration from 0 to 1h, such as 10s")
    return seconds


def changed(
    base: OffloadPolicy,
    enabled: bool,
    thresholds: Mapping[str, float],
    sustain: float | None,
    dry_run: bool,
) -> OffloadPolicy:
    """The policy `--enable`/`--disable` asks for, on top of the running one. The mode is
    what was asked: live unless `dry_run`, whether turning on or off (a disable keeps
    dry-run only when asked to: the console's `A` turns it back on in that mode)."""
    rules = dict(base.rules)
    for resource, value in thresholds.items():
        old = rules.get(resource) or Rule(value)
        if old.hysteresis >= value:
            raise BadOffloadFlag(
                f"--threshold {resource}={value:g}: at or under its hysteresis "
                f"({old.hysteresis:g} points) a fence would never lift"
            )
        rules[resource] = dataclasses.replace(old, threshold=value)
    if sustain is not None:
        rules = {r: dataclasses.replace(rule, sustain=sustain) for r, rule in rules.items()}
    return dataclasses.replace(base, enabled=enabled, rules=rules, dry_run=dry_run)


def apply_policy(
    client: ControlCalls,
    file_policy: OffloadPolicy,
    scopes: Mapping[str, str],
    enabled: bool,
    thresholds: Mapping[str, float],
    sustain: float | None,
    *,
    dry_run: bool,
) -> dict[str, Any]:
    """Turn auto-offload on or off with these changes (on the driver's thread)."""
    status = client.offload_status()
    # The first policy the engine gets is the cluster file's; later, the running one.
    base = OffloadPolicy.from_record(status) if status.get("stored") else file_policy
    return client.offload_set(changed(base, enabled, thresholds, sustain, dry_run), scopes)


def public(status: Mapping[str, Any]) -> dict[str, Any]:
    """The `--status --json` object."""
    rules = status.get("rules", {})
    first: dict[str, Any] = next(iter(rules.values()), {})
    return {
        "enabled": bool(status.get("enabled")),
        "thresholds": {r: v["threshold"] for r, v in rules.items()},
        "sustain": {r: v["sustain"] for r, v in rules.items()},
        "hysteresis": first.get("hysteresis"),
        "cooldown": first.get("cooldown"),
        "rules": rules,
        "overrides": status.get("overrides", {}),
        "watched": list(status.get("watched", [])),
        "dry_run": bool(status.get("dry_run")),
        "fenced": list(status.get("fenced", [])),
        # What a change did (`--enable`/`--disable`): its events, fences read from Ray after.
        **({"changes": list(status["changes"])} if "changes" in status else {}),
        **({"fenced_unread": status["fenced_unread"]} if "fenced_unread" in status else {}),
        # {fenced node: {actors, more, own}}: Ray#41824 (a controller older than the
        # report sends none: then empty).
        "still_running": {
            str(n): StillRunning.from_record(r).to_record()
            for n, r in (status.get("still_running") or {}).items()
        },
    }
