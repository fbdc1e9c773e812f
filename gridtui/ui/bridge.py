"""The one bridge from the facade's feeds into Textual: a message per value, then a signal."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, cast

from textual.dom import DOMNode
from textual.message import Message
from textual.signal import Signal

if TYPE_CHECKING:
    from gridtui.feeds import Feeds

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Source(Protocol[T_co]):
    """A feed as the bridge reads it (a Publisher: the console imports no service)."""

    def subscribe(self, listener: Callable[[T_co], None]) -> Callable[[], None]: ...

    def value(self) -> T_co: ...


Select = Callable[["Feeds"], Source[T]]
"""Picks one feed: `lambda f: f.memory`. A new feed on the facade needs nothing here."""


class Route(Generic[T]):
    """One feed on Textual's side: its newest value, and the signal carrying the next."""

    def __init__(self, app: DOMNode, select: Select[T], every: bool) -> None:
        self._app = app
        self.select = select
        self.every = every
        """Events (alerts): each one delivered, none replaced by a newer one."""
        self.signal: Signal[T] = Signal(app, "feed")
        self.latest: T | None = None
        self._unsubscribe: Callable[[], None] = lambda: None

    def follow(self, app: DOMNode, feeds: Feeds) -> None:
        """Listen to this feed of `feeds` (the stand-in's, then the facade's once built)."""
        self._unsubscribe()
        self._app = app
        source = self.select(feeds)
        if not self.every:
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
    queued one is replaced (events are not)."""

    def __init__(self, route: Route[Any], value: object) -> None:
        super().__init__()
        self.route = route
        self.value = value

    def can_replace(self, message: Message) -> bool:
        return (
            isinstance(message, FeedUpdated)
            and message.route is self.route
            and not self.route.every
        )


class Bridge:
    """Held by the app: a Route per feed someone follows, made on the first `follow`."""

    def __init__(self, app: DOMNode, feeds: Feeds) -> None:
        self._app = app
        self.feeds = feeds
        self._routes: dict[int, Route[Any]] = {}

    def route(self, select: Select[T], *, every: bool = False) -> Route[T]:
        key = id(select(self.feeds))
        found = self._routes.get(key)
        if found is None:
            found = self._routes[key] = Route(self._app, select, every)
            found.follow(self._app, self.feeds)
        return cast("Route[T]", found)

    def attach(self, feeds: Feeds) -> None:
        """The facade is built: follow its feeds, and show each one's value now."""
        self.feeds = feeds
        routes, self._routes = list(self._routes.values()), {}
        for route in routes:
            self._routes[id(route.select(feeds))] = route
            route.follow(self._app, feeds)
            if not route.every:
                self._app.post_message(FeedUpdated(route, route.latest))

    def close(self) -> None:
        for route in self._routes.values():
            route.close()


class BridgedApp(Protocol):
    bridge: Bridge


def follow(
    node: DOMNode,
    select: Select[T],
    show: Callable[[T], None],
    *,
    now: bool = True,
    every: bool = False,
) -> None:
    """`show` each value of the feed `select` picks, while `node` is mounted (and the
    newest one at once, unless `now` is off). `every`: an event stream, none skipped."""
    route = cast(BridgedApp, node.app).bridge.route(select, every=every)
    if now and route.latest is not None:
        show(route.latest)
    route.signal.subscribe(node, show)


def latest(node: DOMNode, select: Select[T]) -> T:
    """The newest value of a feed, as the app last delivered it."""
    value = cast(BridgedApp, node.app).bridge.route(select).latest
    assert value is not None  # only events have none, and nobody reads an event stream so
    return value
