"""Number formatting shared by the panes, so every figure reads the same everywhere."""

from __future__ import annotations

import time

DASH = "-"


def pct(value: float | None) -> str:
    return DASH if value is None else f"{value:5.1f}"


def num(value: float | None, digits: int = 2) -> str:
    return DASH if value is None else f"{value:.{digits}f}"


def size(value: float) -> str:
    """Bytes as a short binary size: 512M, 3.2G."""
    for unit in ("B", "K", "M", "G", "T"):
        if abs(value) < 1024 or unit == "T":
            return f"{value:.0f}{unit}" if unit in ("B", "K") else f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:.1f}T"


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
