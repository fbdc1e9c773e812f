"""Intents: a pane's ask as a typed message, and the controllers the main screen routes them to."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from textual.message import Message


class Intent(Message):
    """A pane's ask (a dataclass per controller, declared in the pane's module); it bubbles
    to the main screen, which hands it to the controller that `TAKES` its type."""


class Controller(Protocol):
    """A flow behind a pane's keys (ui/controllers/): dialogs, confirmations, one service
    call in a worker. Built by the main screen with it, one per `TAKES`."""

    TAKES: ClassVar[type[Intent]]

    def __init__(self, screen: Any) -> None: ...

    def handle(self, intent: Any) -> None: ...
