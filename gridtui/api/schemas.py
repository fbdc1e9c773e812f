"""Request bodies and the grammar of what they carry: one JSON schema that the OpenAPI document
publishes and the routes enforce, so a request the schema allows is one the API accepts."""

from __future__ import annotations

import math
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from gridtui.errors import BadRequest
from gridtui.model.objects import KEY_MAX
from gridtui.model.offload import RESOURCES
from gridtui.model.reservations import TYPES
from gridtui.policy.amounts import MAX_TTL
from gridtui.policy.scheduler import DEFAULT_STRATEGY, STRATEGIES

# The memory key grammar of gridtui/model/objects.py (key_problem), as one pattern.
KEY_PATTERN = rf"^[A-Za-z0-9][A-Za-z0-9._/:@+=-]{{0,{KEY_MAX - 1}}}$"

# The amounts the API takes as text: a subset of the CLI's (no exponents, signs, spaces or
# lower-case units), each of which the CLI's parser accepts (tests/unit/test_api_contract.py).
COUNT_TEXT = r"^([1-9][0-9]{0,5}(\.[0-9]{1,4})?|0?\.([1-9][0-9]{0,3}|0[1-9][0-9]{0,2}|00[1-9][0-9]?|000[1-9]))$"  # noqa: E501
SIZE_TEXT = r"^([1-9][0-9]{0,5}(\.[0-9]{1,3})?(MiB|GiB|TiB|GB|TB)|([2-9]|[1-9][0-9]{1,5})(\.[0-9]{1,3})?MB)$"  # noqa: E501
# A TTL is at most MAX_TTL (30 days): one unit within it, or days, hours, minutes and
# seconds in that order, each below the next unit up.
_TTL_ONE = r"[1-9][0-9]{0,5}s?|[1-9][0-9]{0,3}m|([1-9][0-9]?|[1-6][0-9]{2}|7[01][0-9]|720)h|([1-9]|[12][0-9]|30)d"  # noqa: E501
_TTL_H, _TTL_M, _TTL_S = r"([0-9]|1[0-9]|2[0-3])h", r"[0-5]?[0-9]m", r"[0-5]?[0-9]s"
_TTL_MANY = (
    rf"([1-9]|[12][0-9])d({_TTL_H})?({_TTL_M})?({_TTL_S})?"
    rf"|([1-9]|1[0-9]|2[0-3])h({_TTL_M})?({_TTL_S})?|([1-9]|[1-5][0-9])m({_TTL_S})?"
)
TTL_TEXT = rf"^({_TTL_ONE}|{_TTL_MANY})$"
SUSTAIN_TEXT = (
    r"^(([0-9]|[1-9][0-9]{1,2}|[12][0-9]{3}|3[0-5][0-9]{2}|3600)s?|([0-9]|[1-5][0-9]|60)m|[01]h)$"
)
COUNT_MIN = 0.0001  # Ray's resolution: a finer count rounds away
COUNT_MAX = 1e6
SIZE_MIN = 1024**2  # under 1 MiB a memory amount is a typo for a size
SIZE_MAX = 2**50  # 1 PiB; integers this size are exact as floats, as validators read them
TTL_MAX = MAX_TTL
SUSTAIN_MAX = 3600

COUNT = {
    "anyOf": [
        {"type": "string", "pattern": COUNT_TEXT},
        {"type": "number", "minimum": COUNT_MIN, "maximum": COUNT_MAX},
    ],
    "description": 'a count of CPUs or GPUs: 2, 0.5, or the text "0.5" (4 decimals at most)',
}
SIZE = {
    "anyOf": [
        {"type": "string", "pattern": SIZE_TEXT},
        {"type": "integer", "minimum": SIZE_MIN, "maximum": SIZE_MAX},
    ],
    "description": 'bytes, at least 1 MiB: 1073741824, or the text "4GiB", "512MB"',
}
TTL = {
    "anyOf": [
        {"type": "string", "pattern": TTL_TEXT},
        {"type": "number", "exclusiveMinimum": 0, "maximum": TTL_MAX},
        {"type": "null"},
    ],
    "description": 'seconds, or the text "30m", "1h30m", "2d"; null: no TTL',
}
TIMEOUT = {"type": "number", "exclusiveMinimum": 0, "maximum": 600, "default": 30}


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _by_type(schema: dict[str, Any]) -> None:
    """`amount` is a count for cpu and gpu, a size for memory."""
    schema["properties"]["type"] = {"type": "string", "enum": list(TYPES)}
    schema["properties"]["amount"] = {"description": "a count (cpu, gpu) or a size (memory)"}
    schema["oneOf"] = [
        {"properties": {"type": {"enum": ["cpu", "gpu"]}, "amount": COUNT}},
        {"properties": {"type": {"const": "memory"}, "amount": SIZE}},
    ]


def _boost_schema(schema: dict[str, Any]) -> None:
    _by_type(schema)
    # The node names are the cluster file's: the app fills them in (app.py).
    schema["properties"]["node"] = {"type": "string", "description": "a node of the cluster"}
    schema["properties"].update(ttl=TTL, timeout=TIMEOUT)


def _share_schema(schema: dict[str, Any]) -> None:
    _by_type(schema)
    schema["properties"].update(ttl=TTL, timeout=TIMEOUT, strategy=STRATEGY)


STRATEGY = {"type": "string", "enum": list(STRATEGIES), "default": DEFAULT_STRATEGY}
Amount = StrictStr | StrictInt | StrictFloat


class BoostBody(Body):
    """Like `gridtui boost request NODE TYPE AMOUNT [--ttl T] [--timeout S]`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_boost_schema)
    node: StrictStr
    type: StrictStr = Field(examples=["cpu"])
    amount: Amount = Field(examples=[1, "4GiB"])
    ttl: Amount | None = Field(default=None, examples=["30m"])
    timeout: StrictInt | StrictFloat = Field(default=30.0, gt=0, le=600)


class ShareBody(Body):
    """Like `gridtui resource-sharing request TYPE AMOUNT [--strategy S] [--ttl T]`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_share_schema)
    type: StrictStr = Field(examples=["cpu"])
    amount: Amount = Field(examples=[2])
    strategy: StrictStr = DEFAULT_STRATEGY
    ttl: Amount | None = None
    timeout: StrictInt | StrictFloat = Field(default=30.0, gt=0, le=600)


def _zero_or(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [*schema["anyOf"], {"const": 0}, {"type": "null"}]}


def _place_schema(schema: dict[str, Any]) -> None:
    schema["properties"] = {
        "cpu": _zero_or(COUNT),
        "gpu": _zero_or(COUNT),
        "memory": _zero_or(SIZE),
        "strategy": STRATEGY,
    }


class PlaceBody(Body):
    """One task's needs (0 or null: not needed): the node the strategy picks now."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_place_schema)
    cpu: Amount | None = None
    gpu: Amount | None = None
    memory: Amount | None = None
    strategy: StrictStr = DEFAULT_STRATEGY


def _offload_schema(schema: dict[str, Any]) -> None:
    sustain = {
        "anyOf": [
            {"type": "string", "pattern": SUSTAIN_TEXT},
            {"type": "number", "minimum": 0, "maximum": SUSTAIN_MAX},
            {"type": "null"},
        ],
        "description": "how long a node stays over a threshold before it is fenced",
    }
    # Each threshold's minimum is over its rule's hysteresis: the app fills them in.
    thresholds = {
        "type": "object",
        "properties": {r: {"type": "number", "maximum": 100} for r in RESOURCES},
        "additionalProperties": False,
    }
    schema["properties"] = {
        "enabled": {"type": "boolean"},
        "thresholds": thresholds,
        "sustain": sustain,
        "dry_run": {"type": "boolean", "default": False},
    }
    # Turning it off takes nothing else.
    schema["oneOf"] = [
        {"properties": {"enabled": {"const": True}}},
        {
            "properties": {
                "enabled": {"const": False},
                "thresholds": {"maxProperties": 0},
                "sustain": {"type": "null"},
                "dry_run": {"const": False},
            }
        },
    ]


class OffloadBody(Body):
    """Like `gridtui offload auto --enable|--disable [--threshold R=P] [--sustain D]`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_offload_schema)
    enabled: StrictBool
    thresholds: dict[StrictStr, StrictInt | StrictFloat] = Field(
        default_factory=dict, examples=[{"cpu": 80, "memory": 65}]
    )
    sustain: StrictStr | StrictInt | StrictFloat | None = Field(default=None, examples=["10s"])
    dry_run: StrictBool = False


# -- the checks the schema states, for what pydantic's types let through -----------------


def grammar_problem(field: str, value: Any, kind: str) -> str | None:
    """Why `value` is outside the API's grammar for `kind` (count, size, ttl, sustain)."""
    text, low, high = {
        "count": (COUNT_TEXT, COUNT_MIN, COUNT_MAX),
        "size": (SIZE_TEXT, SIZE_MIN, SIZE_MAX),
        "ttl": (TTL_TEXT, 0.0, TTL_MAX),
        "sustain": (SUSTAIN_TEXT, 0.0, SUSTAIN_MAX),
    }[kind]
    if isinstance(value, str):
        if re.fullmatch(text, value):
            return None
        return f"{field} {value!r} is not {_SAY[kind]}"
    number = float(value)
    if kind == "size" and math.isfinite(number) and number != int(number):
        return f"{field} {value!r} is not a whole number of bytes"
    open_low = kind == "ttl"
    # `value`, not its float: 2**60 + 1 is over the limit though its float is not.
    if not math.isfinite(number) or value > high or value < low or (open_low and value <= low):
        return f"{field} {value!r} is out of range ({low:g} to {high:g})"
    return None


_SAY = {
    "count": "a count such as 2 or 0.5 (4 decimals at most)",
    "size": "a size of at least 1 MiB such as 512MB, 4GiB or 2TB",
    "ttl": "a duration such as 90 (seconds), 30m, 1h30m or 2d",
    "sustain": "a duration from 0 to 1h such as 10, 10s, 5m or 1h",
}


def check_request_body(rtype: str, amount: Any, ttl: Any) -> None:
    """What the CLI's parser would also take, refused here for the API's narrower grammar."""
    if rtype not in TYPES:
        raise BadRequest(f"unknown type {rtype!r} (one of: {', '.join(TYPES)})")
    problem = grammar_problem("amount", amount, "size" if rtype == "memory" else "count")
    if problem is None and ttl is not None:
        problem = grammar_problem("ttl", ttl, "ttl")
    if problem is not None:
        raise BadRequest(problem)
