"""What a user types for a reservation: types, amounts and TTLs, and every refusal."""

from __future__ import annotations

import math

import pytest

from gridtui.policy.amounts import (
    AmountError,
    format_duration,
    parse_amount,
    parse_timeout,
    parse_ttl,
    parse_type,
)


@pytest.mark.parametrize(
    ("rtype", "text", "expected"),
    [
        ("cpu", "2", 2.0),
        ("cpu", "0.5", 0.5),
        ("CPU", " 1.25 ", 1.25),
        ("gpu", "1", 1.0),
        ("gpu", "0.25", 0.25),
        ("cpu", 3, 3.0),
        ("memory", "4GiB", 4 * 1024**3),
        ("memory", "512MB", 512 * 1000**2),
        ("memory", "1.5g", 1.5 * 1000**3),
        ("memory", "100 MiB", 100 * 1024**2),
        ("memory", str(2 * 1024**2), 2 * 1024**2),
        ("cpu", "1e1", 10.0),
    ],
)
def test_amounts_parse_in_rays_units(rtype: str, text: str, expected: float) -> None:
    assert parse_amount(rtype, text) == expected


@pytest.mark.parametrize(
    ("rtype", "text", "message"),
    [
        ("cpu", "0", "must be positive"),
        ("cpu", "-1", "must be positive"),
        ("cpu", "nan", "NaN is not a number"),
        ("cpu", "NaN", "NaN is not a number"),
        ("cpu", float("nan"), "NaN is not a number"),
        ("cpu", "inf", "must be finite"),
        ("cpu", "-Infinity", "must be finite"),
        ("cpu", math.inf, "must be finite"),
        ("cpu", "two", "is not a number"),
        ("cpu", "", "is not a number"),
        ("cpu", "1,5", "is not a number"),
        ("cpu", "4GiB", "count of units"),
        ("cpu", "0.00001", "below Ray's resolution"),
        ("memory", "4XB", "unknown size unit"),
        ("memory", "2", "under 1 MiB"),
        ("memory", "0GiB", "must be positive"),
        ("memory", "-512MB", "must be positive"),
        ("memory", "lots", "is not a number"),
        ("cpu", True, "must be a number"),
    ],
)
def test_bad_amounts_are_refused_with_a_reason(rtype: str, text: object, message: str) -> None:
    with pytest.raises(AmountError, match=message):
        parse_amount(rtype, text)  # type: ignore[arg-type]


def test_unknown_type_lists_the_known_ones() -> None:
    assert parse_type("Memory") == "memory"
    with pytest.raises(AmountError, match=r"unknown type 'disk' \(one of: cpu, gpu, memory\)"):
        parse_type("disk")
    with pytest.raises(AmountError, match="unknown type"):
        parse_amount("tpu", "1")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30m", 1800), ("90s", 90), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), ("45", 45),
     ("0.5m", 30), (12, 12), (None, None), ("30d", 30 * 86400)],
)  # fmt: skip
def test_ttls(text: str | None, seconds: float | None) -> None:
    assert parse_ttl(text) == seconds


@pytest.mark.parametrize(
    "text", ["0s", "-5m", "5x", "m", "30 minutes", "nan", "inf", "1h-5m", "0", -3]
)
def test_bad_ttls_are_refused(text: object) -> None:
    with pytest.raises(AmountError, match="TTL"):
        parse_ttl(text)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "TTL is empty"), ("  ", "TTL is empty"), ("31d", "over the limit of 30 days"),
     ("30d1s", "over the limit of 30 days"), (1e9, "over the limit of 30 days")],
)  # fmt: skip
def test_an_empty_ttl_is_a_slip_and_ttls_have_a_bound(text: object, message: str) -> None:
    with pytest.raises(AmountError, match=message):
        parse_ttl(text)  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "seconds"), [("30", 30.0), (0.5, 0.5), ("3600", 3600.0)])
def test_timeouts(text: object, seconds: float) -> None:
    assert parse_timeout(text) == seconds  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["0", "-1", "3600.5", "1e8", "nan", "inf", "soon", "", True])
def test_timeouts_are_bounded(text: object) -> None:
    with pytest.raises(AmountError, match="timeout"):
        parse_timeout(text)  # type: ignore[arg-type]


def test_countdowns_stay_short() -> None:
    assert format_duration(45.7) == "45s"
    assert format_duration(29 * 60 + 12) == "29m 12s"
    assert format_duration(2 * 3600 + 5 * 60) == "2h 05m"
    assert format_duration(-3) == "0s"
