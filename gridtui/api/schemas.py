"""Request bodies: strict JSON types and no unknown fields; amounts parsed later as the CLI does."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from gridtui.policy.scheduler import DEFAULT_STRATEGY

# An amount or a duration as the CLI takes it: "4GiB", "30m", or a bare number.
Amount = StrictStr | StrictInt | StrictFloat
NAME = Field(min_length=1, max_length=128)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BoostBody(Body):
    """Like `gridtui boost request NODE TYPE AMOUNT [--ttl T] [--timeout S]`."""

    node: StrictStr = NAME
    type: StrictStr = Field(min_length=1, max_length=16, examples=["cpu"])
    amount: Amount = Field(examples=["1", "4GiB"])
    ttl: Amount | None = Field(default=None, examples=["30m"])
    timeout: StrictInt | StrictFloat = Field(default=30.0, gt=0, le=600)


class ShareBody(Body):
    """Like `gridtui resource-sharing request TYPE AMOUNT [--strategy S] [--ttl T]`."""

    type: StrictStr = Field(min_length=1, max_length=16, examples=["cpu"])
    amount: Amount = Field(examples=["2"])
    strategy: StrictStr = Field(default=DEFAULT_STRATEGY, min_length=1, max_length=32)
    ttl: Amount | None = None
    timeout: StrictInt | StrictFloat = Field(default=30.0, gt=0, le=600)


class PlaceBody(Body):
    """One task's needs: the node the strategy picks now (nothing is reserved)."""

    cpu: Amount | None = Field(default=None, examples=[1])
    gpu: Amount | None = None
    memory: Amount | None = Field(default=None, examples=["1GiB"])
    strategy: StrictStr = Field(default=DEFAULT_STRATEGY, min_length=1, max_length=32)


class OffloadBody(Body):
    """Like `gridtui offload auto --enable|--disable [--threshold R=P] [--sustain D]`."""

    enabled: StrictBool
    thresholds: dict[StrictStr, StrictInt | StrictFloat] = Field(
        default_factory=dict, examples=[{"cpu": 80, "memory": 65}]
    )
    sustain: StrictStr | StrictInt | StrictFloat | None = Field(default=None, examples=["10s"])
    dry_run: StrictBool = False
