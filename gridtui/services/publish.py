"""How services publish: one Publisher[T] for every feed, and EventStream for every-one events."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar, cast

T = TypeVar("T")
Listener = Callable[[T], None]


class Publisher(Generic[T]):
    """A feed's newest value and who hears of it: every feed (node figures, Ray's view,
    reservations, offload, memory, work) builds on this one class.

    `publish(value)` tells every listener at once. A coalescing publisher (`coalescing`)
    is given a `build` instead: many `changed()` calls in one window make one publish, and
    the value is built once per publish, only when someone listens or asks for it.

    Listeners are called on the loop that published, so a service and its listeners share
    one thread and the value needs no lock."""

    def __init__(self, initial: T) -> None:
        self._listeners: list[Listener[T]] = []
        self._value: T = initial
        self._build: Callable[[], T] | None = None
        self._fresh = True
        self.window = 0.0
        self._handle: asyncio.TimerHandle | None = None

    @classmethod
    def coalescing(cls, build: Callable[[], T], *, window: float = 0.25) -> Publisher[T]:
        """A publisher of a state that changes often (the hub's figures): built on demand."""
        publisher = cls(cast(T, None))
        publisher._build, publisher.window, publisher._fresh = build, window, False
        return publisher

    def subscribe(self, listener: Listener[T]) -> Callable[[], None]:
        """Call `listener` with each published value; returns the unsubscribe callable."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def value(self) -> T:
        """The newest value, built now if something changed since it was last built."""
        if not self._fresh and self._build is not None:
            self._value = self._build()
            self._fresh = True
        return self._value

    def publish(self, value: T) -> None:
        """`value` is the newest: every listener hears of it now."""
        self._value, self._fresh = value, True
        for listener in list(self._listeners):
            listener(value)

    def changed(self) -> None:
        """The built state changed: publish within one window (once, however often called)."""
        self._fresh = False
        if self._handle is not None or not self._listeners:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (recorded data, tests): publish at once
            self.publish_now()
            return
        self._handle = loop.call_later(self.window, self.publish_now)

    def publish_now(self) -> None:
        self.cancel()
        if self._listeners:
            self.publish(self.value())

    def cancel(self) -> None:
        """Drop a publish that is due (the service is stopping)."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


class EventStream(Publisher[T]):
    """Events every listener must see, each one (alerts, lost reservations): no
    coalescing, and a bounded history instead of one newest value."""

    def __init__(self, history: int = 500) -> None:
        super().__init__(cast(T, None))  # never read: `value` is the history's newest
        self._history: deque[T] = deque(maxlen=history)

    def value(self) -> T:
        if not self._history:
            raise LookupError("no event yet")
        return self._history[-1]

    def emit(self, event: T) -> None:
        self._history.append(event)
        self.publish(event)

    @property
    def history(self) -> tuple[T, ...]:
        """The newest events, oldest first."""
        return tuple(self._history)
