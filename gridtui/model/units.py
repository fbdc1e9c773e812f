"""Byte sizes for people: the one formatter the console's panes and the CLI's tables share."""

from __future__ import annotations

# Size suffixes as people type them (lower-cased): decimal k/m/g/t, binary kib/mib/gib/tib.
SIZE_UNITS = {
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "kib": 1024,
    "m": 1000**2,
    "mb": 1000**2,
    "mib": 1024**2,
    "g": 1000**3,
    "gb": 1000**3,
    "gib": 1024**3,
    "t": 1000**4,
    "tb": 1000**4,
    "tib": 1024**4,
}
SHORT = ("B", "K", "M", "G", "T")
IEC = ("B", "KiB", "MiB", "GiB", "TiB")


def size(value: float, *, iec: bool = False) -> str:
    """Bytes in binary units, one decimal from mebibytes up: 512M, 3.2G for tight columns;
    with `iec`, spelled out for CLI tables (512.0MiB, and kibibytes get a decimal too)."""
    units, whole = (IEC, 1) if iec else (SHORT, 2)
    i = 0
    while abs(value) >= 1024 and i < len(units) - 1:
        value /= 1024
        i += 1
    return f"{value:.0f}{units[i]}" if i < whole else f"{value:.1f}{units[i]}"
