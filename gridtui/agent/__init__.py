"""Scripts shipped to nodes on a transport's stdin: stdlib only, nodes need nothing installed."""

from __future__ import annotations

from functools import cache
from importlib import resources

SHARED = ("procfs.py",)
"""Modules the scripts import from this package; shipped inlined above each script."""
INLINED = "# inlined when shipped"
"""Marks a script's import of a shared module: the line is dropped from the shipped text."""


def _read(name: str) -> str:
    return resources.files("gridtui.agent").joinpath(name).read_text(encoding="utf-8")


@cache
def script_source(name: str) -> str:
    """The text of one shipped script (`sampler.py`, `nodescript.py`), with the shared
    modules it imports written out above it, so it runs alone with `python -`."""
    own = _read(name)
    if INLINED not in own:
        return own
    kept, inside = [], False
    for line in own.splitlines(keepends=True):
        if line.rstrip().endswith(INLINED):
            inside = line.rstrip().removesuffix(INLINED).rstrip().endswith("(")
        elif inside:  # the rest of a wrapped import of a shared module
            inside = line.strip() != ")"
        else:
            kept.append(line)
    return "".join(_read(shared) + "\n\n" for shared in SHARED) + "".join(kept)
