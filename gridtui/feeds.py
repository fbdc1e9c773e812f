"""Feeds: every state the facade publishes for the fronts, each one Publisher[T] under its key."""

from __future__ import annotations

from typing import Any, TypeVar, cast

from gridtui.model.feed import NOT_YET, FeedKey
from gridtui.model.nodes import ALERTS, NODES, ClusterSnapshot
from gridtui.model.objects import MEMORY
from gridtui.model.offload_view import OFFLOAD
from gridtui.model.ray import RAY
from gridtui.model.reservations import RESERVATIONS
from gridtui.model.work import WORK
from gridtui.services.publish import EventStream, Publisher

T = TypeVar("T")

# The keys are declared beside their states (model/); here for the fronts to find at once.
__all__ = [
    "ALERTS",
    "MEMORY",
    "NODES",
    "NOT_YET",
    "OFFLOAD",
    "RAY",
    "RESERVATIONS",
    "WORK",
    "Feeds",
]


class Feeds:
    """What the facade exposes for a front to follow, by key. A feed exists from the first
    ask, before the service behind it (reservations, offload and memory start with Ray,
    after the console subscribed): a front subscribes once, at its own start, and until
    the service publishes the feed shows its key's initial value.

    Light on purpose (the model and publish.py): the console builds a stand-in before its
    first frame, while the cluster file is still being read."""

    def __init__(self) -> None:
        self._publishers: dict[FeedKey[Any], Publisher[Any]] = {}

    def provide(self, key: FeedKey[T], publisher: Publisher[T]) -> None:
        """Publish `key` through a service's own publisher (the hub's, the Ray view's)."""
        self._publishers[key] = publisher

    def __getitem__(self, key: FeedKey[T]) -> Publisher[T]:
        found = self._publishers.get(key)
        if found is None:
            found = EventStream() if key.initial is None else Publisher(key.initial())
            self._publishers[key] = found
        return cast("Publisher[T]", found)

    @classmethod
    def standin(cls, nodes: ClusterSnapshot) -> Feeds:
        """Feeds with nothing behind them yet: the console's first frame, before its file."""
        feeds = cls()
        feeds.provide(NODES, Publisher(nodes))
        return feeds
