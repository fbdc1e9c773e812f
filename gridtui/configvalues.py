"""Value checks for the cluster file: strict types, documented ranges, the bad value named."""

from __future__ import annotations

import math
import os
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from gridtui.model import units
from gridtui.themefiles import read_theme_files

# In a cluster file a bare number is bytes.
SIZE_UNITS = {"": 1, **units.SIZE_UNITS}
# PyYAML (YAML 1.1) reads 1e9 and 1.0e9 as text; YAML 1.2 and every user read a number.
EXPONENT = re.compile(r"^[-+]?[0-9]+(\.[0-9]*)?[eE][-+]?[0-9]+\Z")
# ASCII digits only: float() takes any Unicode digit (U+0661 as 1).
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$", re.ASCII)
# Node names are shown, used as Ray labels and in file names; hosts reach ssh(1) for shells.
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
_RESOURCE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:/-]{0,63}$")
_RAY_OWN_RESOURCES = {"CPU", "GPU", "memory", "object_store_memory"}
# Ray refuses an object store under 75 MiB (ray_constants.OBJECT_STORE_MINIMUM_MEMORY_BYTES).
MIN_OBJECT_STORE = 75 * 1024**2
MAX_SIZE = 1024**5  # 1 PiB: more than any one machine, far less than overflows anything
# Textual's built-in theme names (textual.theme.BUILTIN_THEMES for the pinned Textual; a test
# compares): listed here so checking `ui.theme` never imports Textual.
TEXTUAL_THEMES = frozenset(
    {
        "ansi-dark", "ansi-light", "atom-one-dark", "atom-one-light", "catppuccin-frappe",
        "catppuccin-latte", "catppuccin-macchiato", "catppuccin-mocha", "dracula", "flexoki",
        "gruvbox", "monokai", "nord", "rose-pine", "rose-pine-dawn", "rose-pine-moon",
        "solarized-dark", "solarized-light", "textual-dark", "textual-light", "tokyo-night",
    }
)  # fmt: skip


def show(value: Any) -> str:
    """A value as the user wrote it (YAML spelling), short, with control characters escaped."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    if isinstance(value, int):
        if value.bit_length() > 64:  # str() of a huge int is slow, and refused past 4300 digits
            return f"a {int(value.bit_length() * 0.30103) + 1}-digit number"
        return str(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, bytes):
        return "binary data"
    return f"a {value.__class__.__name__} ({str(value)[:40]})"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


@dataclass(frozen=True)
class Range:
    """A documented range of numbers: config fields and CLI options are checked with it."""

    lo: float
    hi: float
    integer: bool = False
    lo_open: bool = False  # `lo` itself is refused (a percentage above 0)
    unit: str = ""

    def describe(self) -> str:
        kind = "a whole number" if self.integer else "a number"
        low = f"above {_num(self.lo)}" if self.lo_open else f"from {_num(self.lo)}"
        unit = f" {self.unit}" if self.unit else ""
        return f"{kind} {low} to {_num(self.hi)}{unit}"

    def check(self, value: Any, shown: str | None = None) -> Any:
        """The value (a float unless `integer`), or ValueError naming it and the range.

        `shown` is the value as typed, when it came as text (a command-line option)."""
        said = shown if shown is not None else show(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected {self.describe()}, got {said}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{said} is not a finite number: expected {self.describe()}")
        if self.integer and not isinstance(value, int):
            raise ValueError(f"{said} is not a whole number: expected {self.describe()}")
        low = value <= self.lo if self.lo_open else value < self.lo
        if low or value > self.hi:
            raise ValueError(f"{said} is out of range: expected {self.describe()}")
        return value if self.integer else float(value)


def human_size(n: int) -> str:
    for unit, size in (("PiB", 1024**5), ("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"


def parse_size(value: Any) -> int:
    """Turn 2GiB, 512MB, 1.5g or a plain number of bytes into bytes."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected a size such as 4GiB or 512MB, got {show(value)}")
    number: float
    if isinstance(value, str) and EXPONENT.match(value):
        number = float(value)
    elif isinstance(value, str):
        match = _SIZE_RE.match(value)
        if not match or match.group(2).lower() not in SIZE_UNITS:
            raise ValueError(f"{show(value)} is not a size such as 4GiB or 512MB")
        number = float(match.group(1)) * SIZE_UNITS[match.group(2).lower()]
    else:
        number = value
    if isinstance(number, float) and not math.isfinite(number):
        raise ValueError(f"{show(value)} is not a finite size")
    if number < 0:
        raise ValueError(f"{show(value)} is negative: expected a size such as 4GiB or 512MB")
    return int(number)


def size_check(lo: int, hi: int = MAX_SIZE) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        n = parse_size(value)
        if not lo <= n <= hi:
            span = f"{human_size(lo)} to {human_size(hi)}"
            raise ValueError(f"{show(value)} is out of range: expected a size from {span}")
        return n

    return check


def bad_char(text: str) -> int | None:
    """Where a control, format or separator character is: none belongs in a name or path."""
    for i, c in enumerate(text):
        if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            return i
    return None


def text_check(max_len: int = 256, *, path: bool = False) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if path and isinstance(value, Path):
            value = str(value)
        if not isinstance(value, str):
            if isinstance(value, int | float) and not isinstance(value, bool):
                raise ValueError(f"expected text, got the number {show(value)}: put it in quotes")
            raise ValueError(f"expected text, got {show(value)}")
        if not value:
            raise ValueError("must not be empty")
        bad = bad_char(value)
        if bad is not None:
            raise ValueError(
                f"{show(value)} contains a control character "
                f"(U+{ord(value[bad]):04X} at position {bad + 1})"
            )
        if len(value) > max_len:
            raise ValueError(f"too long ({len(value)} characters; at most {max_len})")
        return Path(os.path.expanduser(value)) if path else value

    return check


def node_name(value: Any) -> str:
    text = text_check(63)(value)
    if not _NAME_RE.match(text):
        raise ValueError(
            f"{show(text)}: use letters, digits, '.', '_' and '-' "
            "(up to 63, starting with a letter or digit)"
        )
    return str(text)


def host(value: Any) -> str:
    text = str(text_check(253)(value))
    if text.startswith("-") or any(c.isspace() for c in text):
        raise ValueError(f"{show(text)}: a host name or address, without spaces or a leading '-'")
    return text


def flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError(f"expected true or false, got {show(value)}")


def version(value: Any) -> str:
    text = str(text_check(64)(value))
    if not re.match(r"^[0-9][0-9A-Za-z.+!-]*$", text):
        raise ValueError(f'{show(text)} is not a version such as "2.60.0"')
    return text


def custom(value: Any) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"expected a mapping of resource name to amount, got {show(value)}")
    out = {}
    for name, amount in value.items():
        if not isinstance(name, str) or not _RESOURCE_RE.match(name):
            raise ValueError(
                f"resource name {show(name)}: use letters, digits, '_', '.', ':', '/', '-' "
                "(up to 64, starting with a letter or '_')"
            )
        if name in _RAY_OWN_RESOURCES or name.startswith("node:"):
            raise ValueError(at((name,), f"{name!r} is Ray's own: use cpu, gpu or memory"))
        try:
            out[name] = float(CUSTOM_AMOUNT.check(amount))
        except ValueError as exc:
            raise ValueError(at((name,), str(exc))) from None
    return out


def theme(value: Any) -> str:
    text = str(text_check(64)(value))
    known = theme_names()
    if text not in known:
        raise ValueError(f"unknown theme {show(text)}; known: {', '.join(sorted(known))}")
    return text


# The documented ranges (docs/configuration.md lists each).
SAMPLE_INTERVAL = Range(0.1, 300, unit="seconds")
HISTORY = Range(10, 86400, unit="seconds")
PORT = Range(1, 65535, integer=True)
CPUS = Range(0, 4096, integer=True)
GPUS = Range(0, 1024, integer=True)
CUSTOM_AMOUNT = Range(0, 1e9, lo_open=True)
CONNECT_TIMEOUT = Range(0.5, 300, unit="seconds")
COMMAND_TIMEOUT = Range(1, 3600, unit="seconds")
CONNECTS = Range(1, 1000, integer=True)
PERCENT = Range(0, 100, lo_open=True, unit="percent")
SUSTAIN = Range(0, 3600, unit="seconds")
THRESHOLD = Range(1, 100, unit="percent")
HYSTERESIS = Range(0, 99, unit="points")
COOLDOWN = Range(0, 86400, unit="seconds")
STORE_SHARE = Range(0, 0.9, lo_open=True)


def at(loc: tuple[int | str, ...], message: str) -> str:
    """Tag an error with the field below this one it is about, so its line can be found."""
    return "@" + "/".join(str(p) for p in loc) + "@ " + message


def split_at(message: str) -> tuple[list[int | str], str] | None:
    if not message.startswith("@") or "@ " not in message[1:]:
        return None
    tag, _, rest = message[1:].partition("@ ")
    return [int(p) if p.isdigit() else p for p in tag.split("/")], rest


@cache
def theme_names() -> frozenset[str]:
    """Every theme the console can show: gridtui's theme files and Textual's built-ins."""
    names = set(TEXTUAL_THEMES)
    for theme in read_theme_files():
        if isinstance(theme.data, dict) and isinstance(theme.data.get("name"), str):
            names.add(theme.data["name"])
    return frozenset(names)
