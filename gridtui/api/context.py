"""What every route reaches: the services facade, the token store, the limits, the event hub."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from fastapi import Request

from gridtui.api.guard import Limits
from gridtui.backend import Backend

if TYPE_CHECKING:
    from gridtui.api.events import EventHub
    from gridtui.backend import TokenStore


@dataclass
class ApiContext:
    backend: Backend
    tokens: TokenStore
    limits: Limits = field(default_factory=Limits)
    events: EventHub | None = None


def context(request: Request) -> ApiContext:
    return cast(ApiContext, request.app.state.ctx)


async def backend(request: Request) -> Backend:
    """A dependency: `async` so FastAPI calls it on the loop, not through its thread pool
    (a thread hop per request was most of GET /nodes' cost)."""
    return context(request).backend
