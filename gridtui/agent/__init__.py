"""Scripts shipped to nodes on a transport's stdin: stdlib only, nodes need nothing installed."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def script_source(name: str) -> str:
    """The text of one shipped script (`sampler.py`, `nodescript.py`) from this package."""
    return resources.files("gridtui.agent").joinpath(name).read_text(encoding="utf-8")
