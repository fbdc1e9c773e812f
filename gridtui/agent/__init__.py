"""Scripts shipped to nodes on a transport's stdin: stdlib only, nodes need nothing installed."""

from __future__ import annotations

from functools import cache
from importlib import resources

SHARED = ("procfs.py", "rayscope.py")
"""Modules the scripts import from this package (in this order: each may import those
before it); shipped inlined above each script that imports them."""
INLINED = "# inlined when shipped"
"""Marks a script's import of a shared module: the import is dropped from the shipped text."""


def _read(name: str) -> str:
    return resources.files("gridtui.agent").joinpath(name).read_text(encoding="utf-8")


def _strip(text: str) -> tuple[str, set[str]]:
    """The text without its imports of shared modules, and those modules' file names."""
    kept, used, inside = [], set(), False
    for line in text.splitlines(keepends=True):
        if line.rstrip().endswith(INLINED):
            used.add(line.split("import")[0].split(".")[-1].strip() + ".py")
            inside = line.rstrip().removesuffix(INLINED).rstrip().endswith("(")
        elif inside:  # the rest of a wrapped import of a shared module
            inside = line.strip() != ")"
        else:
            kept.append(line)
    return "".join(kept), used


@cache
def script_source(name: str) -> str:
    """The text of one shipped script (`sampler.py`, `nodescript.py`), with the shared
    modules it imports (and theirs) written out above it, so it runs alone with
    `python -`."""
    body, needed = _strip(_read(name))
    texts = {}
    for shared in reversed(SHARED):  # a module imports only those before it
        if shared in needed:
            texts[shared], more = _strip(_read(shared))
            needed |= more
    return "".join(texts[m] + "\n\n" for m in SHARED if m in texts) + body
