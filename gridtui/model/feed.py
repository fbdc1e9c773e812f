"""FeedKey: names one published state, and says what it is before its first value."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
NOT_YET = "Ray not connected yet"
"""What a feed behind Ray says until its service publishes."""


@dataclass(frozen=True, eq=False)
class FeedKey(Generic[T]):
    """A feed's name on every side: the facade's Feeds publish under it, the console's panes
    follow it. Declared beside the state it carries (a new pane's snapshot brings its own)."""

    name: str
    initial: Callable[[], T] | None
    """The value before anything is published; None for events (alerts), which have no
    value, only a stream in which none is skipped."""

    @property
    def events(self) -> bool:
        return self.initial is None
