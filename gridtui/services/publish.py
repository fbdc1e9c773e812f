"""How services publish: coalesced state (Publisher) and every-one events (EventStream)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar, cast

T = TypeVar("T")
Listener = Callable[[T], None]


def _unsubscriber(listeners: list[Listener[T]], listener: Listener[T]) -> Callable[[], None]:
    def unsubscribe() -> None:
        if listener in listeners:
            listeners.remove(listener)

    return unsubscribe


class Publisher(Generic[T]):
    """A service's state for its listeners: many changes in one window make one publish,
    and the value is built once per publish, only when someone listens or asks for it.

    Listeners are called on the loop that called `changed`, so a service and its
    listeners share one thread and the value needs no lock."""

    def __init__(self, build: Callable[[], T], *, window: float = 0.25) -> None:
        self._build = build
        self.window = window
        self._listeners: list[Listener[T]] = []
        self._value: T | None = None
        self._fresh = False
        self._handle: asyncio.TimerHandle | None = None

    def subscribe(self, listener: Listener[T]) -> Callable[[], None]:
        """Call `listener` with each published value; returns the unsubscribe callable."""
        self._listeners.append(listener)
        return _unsubscriber(self._listeners, listener)

    def value(self) -> T:
        """The current value, built now if something changed since it was last built."""
        if not self._fresh:
            self._value = self._build()
            self._fresh = True
        return cast(T, self._value)

    def changed(self) -> None:
        """The state changed: publish within one window (once, however often this is called)."""
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
        if not self._listeners:
            return
        value = self.value()
        for listener in list(self._listeners):
            listener(value)

    def cancel(self) -> None:
        """Drop a publish that is due (the service is stopping)."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


class EventStream(Generic[T]):
    """Events every listener must see, each one (alerts): no coalescing, a bounded history."""

    def __init__(self, history: int = 500) -> None:
        self._listeners: list[Listener[T]] = []
        self._history: deque[T] = deque(maxlen=history)

    def subscribe(self, listener: Listener[T]) -> Callable[[], None]:
        self._listeners.append(listener)
        return _unsubscriber(self._listeners, listener)

    def emit(self, event: T) -> None:
        self._history.append(event)
        for listener in list(self._listeners):
            listener(event)

    @property
    def history(self) -> tuple[T, ...]:
        """The newest events, oldest first."""
        return tuple(self._history)
