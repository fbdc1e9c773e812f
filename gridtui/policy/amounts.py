"""Parsing what a user types for a reservation: its type, amount (`2`, `0.5`, `4GiB`), TTL
and timeout, each with its documented bounds (docs/boosts.md)."""

from __future__ import annotations

import math
import re

from gridtui.model.numbers import DECIMAL, parse_float
from gridtui.model.reservations import TYPES
from gridtui.model.units import SIZE_UNITS  # a bare number is no size here: 2 is not 2 B

# Ray keeps resource quantities to four decimal places; anything finer rounds away.
RESOLUTION = 0.0001
# A memory amount below this is a typo for a size (`2` meaning 2 GiB), not a request.
MIN_MEMORY = 1024**2
TTL_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# The longest TTL: a reservation meant to outlive a month is one to release by hand.
MAX_TTL = 30 * 86400.0
# The longest a request waits for Ray to place it (its client renews a lease meanwhile).
MAX_TIMEOUT = 3600.0
DEFAULT_TIMEOUT = 30.0
# ASCII digits only (model/numbers.py): float() takes any Unicode digit (U+0661 as 1).
_NUMBER = rf"{DECIMAL}|[+-]?(?:nan|infinity|inf)"
_AMOUNT_RE = re.compile(rf"^\s*({_NUMBER})\s*([a-zA-Z]*)\s*$", re.IGNORECASE | re.ASCII)
_TTL_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])", re.ASCII)


class AmountError(ValueError):
    """A malformed type, amount or TTL; the message is one line a user can act on."""


def parse_type(text: str) -> str:
    rtype = text.strip().lower()
    if rtype not in TYPES:
        raise AmountError(f"unknown type {text!r} (one of: {', '.join(TYPES)})")
    return rtype


def _number(text: str) -> tuple[float, str]:
    match = _AMOUNT_RE.match(text)
    if not match:
        raise AmountError(f"amount {text!r} is not a number or a size such as 4GiB")
    value = float(match.group(1))
    if math.isnan(value):
        raise AmountError("amount NaN is not a number")
    if math.isinf(value):
        raise AmountError("amount must be finite")
    return value, match.group(2).lower()


def parse_amount(rtype: str, value: str | float) -> float:
    """The amount in Ray's units: cores for cpu/gpu, bytes for memory.

    Raises AmountError for NaN, infinity, zero, negatives, unknown units and amounts finer
    than Ray's resolution."""
    rtype = parse_type(rtype)
    if isinstance(value, bool):
        raise AmountError("amount must be a number")
    if isinstance(value, int | float):
        number, unit = float(value), ""
        if math.isnan(number):
            raise AmountError("amount NaN is not a number")
        if math.isinf(number):
            raise AmountError("amount must be finite")
    else:
        number, unit = _number(str(value))
    if number <= 0:
        raise AmountError(f"amount must be positive, not {number:g}")
    if rtype == "memory":
        if unit and unit not in SIZE_UNITS:
            raise AmountError(f"unknown size unit {unit!r} (use B, KB, MB, GB, KiB, MiB, GiB)")
        size = float(int(number * SIZE_UNITS.get(unit, 1)))
        if size < MIN_MEMORY:
            raise AmountError(
                f"memory amount {value!r} is under 1 MiB: give a unit, e.g. 512MB or 4GiB"
            )
        return size
    if unit:
        raise AmountError(f"a {rtype} amount is a count of units, not {value!r}")
    rounded = round(number / RESOLUTION) * RESOLUTION
    if rounded <= 0:
        raise AmountError(f"amount {number:g} is below Ray's resolution ({RESOLUTION:g})")
    return round(rounded, 4)


def parse_ttl(text: str | float | None) -> float | None:
    """Seconds from `30m`, `90s`, `2h`, `1d`, `1h30m` or a bare number of seconds, up to
    MAX_TTL; None means no TTL. An empty one is refused: `--ttl ""` is a slip, not "never"
    (a form with an empty TTL field passes None)."""
    if text is None:
        return None
    if isinstance(text, bool):
        raise AmountError("TTL must be a duration such as 30m, 90s or 2h")
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        raw = text.strip(" \t\r\n").lower()  # ASCII spaces only, as around amounts
        if not raw:
            raise AmountError("TTL is empty: give a duration such as 30m, 90s or 2h, or none")
        try:
            seconds = parse_float(raw)
        except ValueError:
            parts = _TTL_PART.findall(raw)
            if not parts or "".join(n + u for n, u in parts) != raw:
                raise AmountError(
                    f"TTL {text!r} is not a duration such as 30m, 90s or 2h"
                ) from None
            seconds = sum(float(n) * TTL_UNITS[u] for n, u in parts)
    if not math.isfinite(seconds) or seconds <= 0:
        raise AmountError(f"TTL must be a positive duration, not {text!r}")
    if seconds > MAX_TTL:
        raise AmountError(f"TTL {text!r} is over the limit of {MAX_TTL / 86400:g} days")
    return seconds


def parse_timeout(value: str | float) -> float:
    """Seconds a request may wait for Ray to place it: more than 0, at most MAX_TIMEOUT."""
    if isinstance(value, bool):
        raise AmountError("timeout must be a number of seconds")
    try:
        # Text takes ASCII digits only (model/numbers.py), as every other amount does.
        seconds = parse_float(value) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise AmountError(f"timeout {value!r} is not a number of seconds") from None
    if not (math.isfinite(seconds) and 0 < seconds <= MAX_TIMEOUT):
        raise AmountError(
            f"timeout must be more than 0 and at most {MAX_TIMEOUT:g} seconds, not {value!r}"
        )
    return seconds


def format_duration(seconds: float) -> str:
    """`45s`, `29m 12s`, `2h 05m`: a TTL countdown that stays short."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d {seconds % 86400 // 3600:02d}h"
