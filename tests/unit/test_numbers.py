"""Typed numbers take ASCII digits only: every parser of amounts, sizes, thresholds, TTLs,
durations and ports refuses a Unicode digit that Python's float() and int() would take."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridtui.commands import options
from gridtui.configvalues import PORT, Range, parse_size
from gridtui.model.numbers import parse_float, parse_int
from gridtui.policy.amounts import AmountError, parse_amount, parse_ttl
from gridtui.services.offload.thresholds import BadOffloadFlag, parse_sustain, parse_thresholds

# Every decimal digit that is not ASCII: float() reads U+0661 and U+FF11 as 1.0, ...
OTHER_DIGITS = st.characters(categories=["Nd"]).filter(lambda c: not c.isascii())
ASCII_DIGITS = st.text("0123456789", min_size=1, max_size=3)

PARSERS: dict[str, Callable[[str], Any]] = {
    "cpu amount": lambda t: parse_amount("cpu", t),
    "memory amount": lambda t: parse_amount("memory", t + "GiB"),
    "ttl": lambda t: parse_ttl(t + "m"),
    "bare ttl": parse_ttl,
    "size": lambda t: parse_size(t + "MiB"),
    "threshold": lambda t: parse_thresholds([f"cpu={t}"]),
    "sustain": lambda t: parse_sustain(t + "s"),
    "port option": options.number(PORT),
    "seconds option": options.number(Range(0, 1e6)),
    "size option": options.size(0, 1024**5),
    "float": parse_float,
    "int": parse_int,
}
REFUSALS = (AmountError, ValueError, BadOffloadFlag, argparse.ArgumentTypeError)


@pytest.mark.parametrize("name", sorted(PARSERS))
@given(before=ASCII_DIGITS, digit=OTHER_DIGITS, after=st.text("0123456789", max_size=2))
def test_a_unicode_digit_is_refused(name: str, before: str, digit: str, after: str) -> None:
    assert float(before + digit + after) >= 0  # what Python alone would accept
    with pytest.raises(REFUSALS):
        PARSERS[name](before + digit + after)


# An empty bare TTL means none (its exit code on the command line is the reserve work's).
SPELLINGS = [
    (name, text)
    for name in sorted(PARSERS)
    for text in ["1_0", "\u20031", "1\u2003", "0x10", "1e", ""]
    if (name, text) != ("bare ttl", "")
]


@pytest.mark.parametrize(("name", "text"), SPELLINGS)
def test_other_spellings_python_takes_are_refused(name: str, text: str) -> None:
    with pytest.raises(REFUSALS):
        PARSERS[name](text)


@given(st.floats(min_value=0.001, max_value=1e6, allow_nan=False))
def test_ascii_numbers_read_as_python_reads_them(value: float) -> None:
    for text in (repr(value), f"{value:e}", f"{value:.3f}", f" {value!r} "):
        assert parse_float(text) == float(text)


@given(st.integers(min_value=-(10**30), max_value=10**30))
def test_ascii_integers(value: int) -> None:
    assert parse_int(str(value)) == value and parse_int(f"+{abs(value)}") == abs(value)


def test_the_same_values_still_parse() -> None:
    assert parse_amount("cpu", "0.5") == 0.5 and parse_amount("memory", "1GiB") == 1024**3
    assert parse_ttl("1h30m") == 5400.0 and parse_ttl("90") == 90.0
    assert parse_size("1.5GiB") == int(1.5 * 1024**3) and parse_size("1e9") == 10**9
    assert parse_sustain("2m") == 120.0
    assert options.number(PORT)("8080") == 8080


def test_a_percent_sign_is_read_on_purpose() -> None:
    """`80%` is 80 (one sign, after the number); nothing else beside the number."""
    assert parse_thresholds(["cpu=80%", "memory=65", "gpu=90.5%"]) == {
        "cpu": 80.0,
        "memory": 65.0,
        "gpu": 90.5,
    }
    assert parse_thresholds(["70%"]) == {"memory": 70.0}
    for bad in ("cpu=80%%", "cpu=%80", "cpu=80 percent", "cpu=٨٠%"):
        with pytest.raises(BadOffloadFlag, match="expected a percent from 1 to 100"):
            parse_thresholds([bad])
