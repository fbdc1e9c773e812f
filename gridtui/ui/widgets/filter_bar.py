"""The `/` filter line under the Nodes table; hidden until asked for."""

from __future__ import annotations

from textual.widgets import Input


class FilterBar(Input):
    """Typing narrows the table at once; enter keeps the filter, escape drops it."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="filter nodes by name, host or state", id=id)
