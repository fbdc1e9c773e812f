"""The one bridge from the facade's feeds into Textual: a message per value, then a signal."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, cast

from textual.dom import DOMNode
from textual.message import Message
from textual.signal import Signal

from gridtui.model.feed import FeedKey

if TYPE_CHECKING:
    from gridtui.feeds import Feeds

T = TypeVar("T")


class Route(Generic[T]):
    """One feed on Textual's side: its newest value, and the signal carrying the next."""

    def __init__(self, app: DOMNode, key: FeedKey[T]) -> None:
        self._app = app
        self.key = key
        self.signal: Signal[T] = Signal(app, key.name)
        self.latest: T | None = None
        self._unsubscribe: Callable[[], None] = lambda: None

    def follow(self, feeds: Feeds) -> None:
        """Listen to this feed of `feeds` (the stand-in's, then the facade's once built)."""
        self._unsubscribe()
        source = feeds[self.key]
        if not self.key.events:
            self.latest = source.value()
        self._unsubscribe = source.subscribe(self._published)

    def _published(self, value: T) -> None:
        # The services call this on the app's loop; a message keeps them free of Textual.
        self._app.post_message(FeedUpdated(self, value))

    def deliver(self, value: T) -> None:
        self.latest = value
        self.signal.publish(value)

    def close(self) -> None:
        self._unsubscribe()


class FeedUpdated(Message):
    """A feed's new value on its way to the app; only the newest of a state matters, so a
    queued one is replaced (events are not: each alert is shown)."""

    def __init__(self, route: Route[Any], value: object) -> None:
        super().__init__()
        self.route = route
        self.value = value

    def can_replace(self, message: Message) -> bool:
        return (
            isinstance(message, FeedUpdated)
            and message.route is self.route
            and not self.route.key.events
        )


class Bridge:
    """Held by the app: a Route per feed someone follows, made on the first `follow`, so a
    new feed on the facade needs nothing here."""

    def __init__(self, app: DOMNode, feeds: Feeds) -> None:
        self._app = app
        self.feeds = feeds
        self._routes: dict[FeedKey[Any], Route[Any]] = {}

    def route(self, key: FeedKey[T]) -> Route[T]:
        found = self._routes.get(key)
        if found is None:
            found = self._routes[key] = Route(self._app, key)
            found.follow(self.feeds)
        return cast("Route[T]", found)

    def attach(self, feeds: Feeds) -> None:
        """The facade is built: follow its feeds, and show each one's value now."""
        self.feeds = feeds
        for route in self._routes.values():
            route.follow(feeds)
            if not route.key.events:
                self._app.post_message(FeedUpdated(route, route.latest))

    def close(self) -> None:
        for route in self._routes.values():
            route.close()


class BridgedApp(Protocol):
    bridge: Bridge


def follow(node: DOMNode, key: FeedKey[T], show: Callable[[T], None], *, now: bool = True) -> None:
    """`show` each value of the feed while `node` is mounted (and the newest one at once,
    unless `now` is off: events have none)."""
    route = cast(BridgedApp, node.app).bridge.route(key)
    if now and route.latest is not None:
        show(route.latest)
    route.signal.subscribe(node, show)


def latest(node: DOMNode, key: FeedKey[T]) -> T:
    """The newest value of a feed (not of events), as the app last delivered it."""
    value = cast(BridgedApp, node.app).bridge.route(key).latest
    if value is None:
        raise LookupError(f"{key.name} carries events: follow it instead")
    return value
