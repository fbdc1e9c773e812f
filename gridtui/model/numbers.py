"""Numbers as people type them: ASCII digits only, whatever else Python's int() accepts."""

from __future__ import annotations

import re

# Python's float() and int() take any Unicode decimal digit (U+0661 U+0660 is 10), underscores
# (`1_0`) and Unicode spaces; a typed amount, size, threshold, TTL or port takes none of
# them. re.ASCII keeps \d and \s to their ASCII meaning wherever these are used.
DECIMAL = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_FLOAT = re.compile(rf"{DECIMAL}|[+-]?(?:nan|inf|infinity)", re.ASCII | re.IGNORECASE)
_INT = re.compile(r"[+-]?[0-9]+", re.ASCII)
_SPACE = " \t\r\n"


def parse_float(text: str) -> float:
    """float(text) for ASCII decimal text (`nan` and `inf` included: callers refuse them
    with their own words); ValueError for anything else."""
    core = text.strip(_SPACE)
    if not _FLOAT.fullmatch(core):
        raise ValueError(f"not a number: {text!r}")
    return float(core)


def parse_int(text: str) -> int:
    """int(text) for ASCII digits with an optional sign; ValueError for anything else."""
    core = text.strip(_SPACE)
    if not _INT.fullmatch(core):
        raise ValueError(f"not a whole number: {text!r}")
    return int(core)
