"""The benches' result contract: one `BENCH {json}` line per figure, read by bench/run.py."""

from __future__ import annotations

import json
import sys
from typing import Any

PREFIX = "BENCH "
"""Starts every machine-readable result line; everything else a bench prints is for people."""


def emit(
    figure: str,
    product: float | str,
    *,
    unit: str = "",
    baseline: float | str | None = None,
    ratio: float | None = None,
    goal: str = "",
    met: bool | None = None,
    note: str = "",
) -> None:
    """Print one figure for the runner (and the person reading along).

    `figure` names it, stable from run to run (the table's key); `product` is gridtui's
    figure and `baseline` the same thing measured the plain way in the same run, each a
    number in `unit` or a ready string; `ratio` is the ratio the goal speaks of (most
    often product / baseline), as the bench prints it; `goal` says the target in words ("<= 1.3x", "< 3%") and `met` whether this run
    reached it (None: no goal). `note` is anything the row needs to be read right."""
    row: dict[str, Any] = {"figure": figure, "product": product, "unit": unit}
    for key, value in (
        ("baseline", baseline),
        ("ratio", ratio),
        ("goal", goal),
        ("met", met),
        ("note", note),
    ):
        if value not in (None, ""):
            row[key] = value
    print(PREFIX + json.dumps(row), flush=True)
    sys.stdout.flush()


def quick_arg(parser: Any) -> None:
    """The flag every bench takes from the runner: fewer repetitions, for a smoke test."""
    parser.add_argument(
        "--quick", action="store_true", help="fewer repetitions: a smoke test, not a figure"
    )
