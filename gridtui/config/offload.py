"""The cluster file's `offload:` section, and the engine's policy built from it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from gridtui import configvalues as values
from gridtui.config.fields import Cooldown, Flag, Percent, Points, Seconds, Strict, checked
from gridtui.configfile import MAX_NODES
from gridtui.model.offload import HEAD, OffloadPolicy, Rule


class OffloadThresholds(Strict):
    """Percent of the node's capacity; a resource left out here is not watched."""

    cpu: Percent | None = 80.0
    memory: Percent | None = 85.0
    gpu: Percent | None = 90.0


class OffloadOverride(Strict):
    """One node's own values; what it leaves out comes from the general ones."""

    thresholds: dict[Literal["cpu", "memory", "gpu"], Percent] = Field(default_factory=dict)
    sustain_seconds: Seconds | None = None
    hysteresis: Points | None = None
    cooldown_seconds: Cooldown | None = None


class OffloadSettings(Strict):
    """Auto-offload (gridtui offload auto): fence a watched node its owner keeps busy."""

    enabled: Flag = False
    dry_run: Flag = False
    thresholds: OffloadThresholds = Field(default_factory=OffloadThresholds)
    sustain_seconds: Seconds = 10.0
    hysteresis: Points = 10.0
    cooldown_seconds: Cooldown = 30.0
    # Node names; "head" is the head whatever its name.
    watched: list[Annotated[str, checked(values.node_name)]] = Field(
        default_factory=lambda: [HEAD], min_length=1, max_length=MAX_NODES
    )
    overrides: dict[Annotated[str, checked(values.node_name)], OffloadOverride] = Field(
        default_factory=dict
    )

    @model_validator(mode="after")
    def _band_below_threshold(self) -> OffloadSettings:
        """A lift line at or under 0% would hold a fence forever."""
        for resource, limit in self.thresholds.model_dump().items():
            if limit is not None and self.hysteresis >= limit:
                raise ValueError(
                    values.at(
                        ("hysteresis",),
                        f"{self.hysteresis:g} points would never lift a fence at the "
                        f"{resource} threshold of {limit:g}%: use less than {limit:g}",
                    )
                )
        return self

    def policy(self) -> OffloadPolicy:
        """The engine's form: one rule per resource, and per overridden node."""
        general: dict[str, float] = {
            k: v for k, v in self.thresholds.model_dump().items() if v is not None
        }

        def rule(limit: float, own: OffloadOverride | None = None) -> Rule:
            mine = own or OffloadOverride()
            return Rule(
                limit,
                self.sustain_seconds if mine.sustain_seconds is None else mine.sustain_seconds,
                self.hysteresis if mine.hysteresis is None else mine.hysteresis,
                self.cooldown_seconds if mine.cooldown_seconds is None else mine.cooldown_seconds,
            )

        overrides: dict[str, dict[str, Rule]] = {}
        for node, own in self.overrides.items():
            limits = dict(general) | {str(k): v for k, v in own.thresholds.items()}
            overrides[node] = {r: rule(limit, own) for r, limit in limits.items()}
        return OffloadPolicy(
            enabled=self.enabled,
            rules={k: rule(v) for k, v in general.items()},
            overrides=overrides,
            watched=tuple(self.watched),
            dry_run=self.dry_run,
        )
