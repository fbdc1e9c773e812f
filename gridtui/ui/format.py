"""Number formatting shared by the panes, so every figure reads the same everywhere."""

from __future__ import annotations

import time

from gridtui.model.units import size

DASH = "-"


def pct(value: float | None) -> str:
    return DASH if value is None else f"{value:5.1f}"


def num(value: float | None, digits: int = 2) -> str:
    return DASH if value is None else f"{value:.{digits}f}"


def rate(value: float) -> str:
    return f"{size(value)}/s"


def used_total(used: float, total: float, unit: str = "") -> str:
    def short(x: float) -> str:
        return f"{x:g}" if x == int(x) else f"{x:.1f}"

    if unit == "B":
        return f"{size(used)}/{size(total)}"
    return f"{short(used)}/{short(total)}"


def clock(epoch: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch))


def ago(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f}s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f}m ago"
    return f"{seconds / 3600:.1f}h ago"
