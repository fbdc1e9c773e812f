"""Pydantic's half of the cluster file's value checks: the field types every section uses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainValidator, model_validator

from gridtui.configvalues import (
    COOLDOWN,
    EXPONENT,
    HYSTERESIS,
    MIN_OBJECT_STORE,
    PORT,
    SUSTAIN,
    THRESHOLD,
    Range,
    flag,
    size_check,
    text_check,
)


def checked(check: Callable[[Any], Any]) -> PlainValidator:
    """Pydantic's half of the value checks. Here, not in configvalues, which stays free of
    pydantic: the CLI's option types and the console's first frame never import it."""
    if isinstance(getattr(check, "__self__", None), Range):

        def number(value: Any) -> Any:
            if isinstance(value, str) and EXPONENT.match(value):
                value = float(value)
            return check(value)

        return PlainValidator(number)
    return PlainValidator(check)


Text = Annotated[str, checked(text_check())]
PathText = Annotated[Path, checked(text_check(4096, path=True))]
RemotePath = Annotated[str, checked(text_check(4096))]
Flag = Annotated[bool, checked(flag)]
Port = Annotated[int, checked(PORT.check)]
Memory = Annotated[int, checked(size_check(0))]
StoreSize = Annotated[int, checked(size_check(MIN_OBJECT_STORE))]
Percent = Annotated[float, checked(THRESHOLD.check)]
Seconds = Annotated[float, checked(SUSTAIN.check)]
Points = Annotated[float, checked(HYSTERESIS.check)]
Cooldown = Annotated[float, checked(COOLDOWN.check)]


class Strict(BaseModel):
    """Unknown fields refused, values frozen: every section of the file is one of these."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_sections(cls, data: Any) -> Any:
        """`ssh:` with everything below it commented out is an empty section, not an error."""
        if isinstance(data, dict):
            sections = {"ssh", "ray", "ui", "alerts", "resources", "offload", "thresholds"}
            return {k: v for k, v in data.items() if not (k in sections and v is None)}
        return data
