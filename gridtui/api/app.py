"""The FastAPI app: routes over the Backend facade, the guard, one error shape, the event hub."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request

from gridtui import __version__
from gridtui.api import errors, routes_cluster, routes_memory, routes_reservations, routes_work
from gridtui.api.context import ApiContext, context
from gridtui.api.contract import contract
from gridtui.api.events import EventHub, EventStreamResponse
from gridtui.api.guard import Guard

events_router = APIRouter()


@events_router.get(
    "/events",
    summary="server-sent events: snapshot (at most 1/s), alert, reservation, offload",
    response_class=EventStreamResponse,
    status_code=200,
    responses={200: {"description": "the stream, until the client or the server ends it"}},
)
async def events(request: Request) -> EventStreamResponse:
    hub = context(request).events
    assert hub is not None
    return EventStreamResponse(hub)


class _Api(FastAPI):
    """The bearer scheme and the guard's statuses are written into the schema, not declared
    as dependencies: a global dependency is resolved on every request, for a header the
    Guard has already checked."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            self.openapi_schema = contract(super().openapi(), self.state.ctx.backend.config)
        return self.openapi_schema


def create_app(ctx: ApiContext, *, manage_backend: bool = False) -> FastAPI:
    """The app on `ctx`; with `manage_backend` its lifespan starts and stops the services
    (the server), else the caller does (tests drive a Backend of recorded data)."""
    if ctx.events is None:
        ctx.events = EventHub(ctx.backend)
    hub = ctx.events

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if manage_backend:
            await ctx.backend.start()
        hub.start()
        try:
            yield
        finally:
            await hub.stop()
            if manage_backend:
                await ctx.backend.stop()

    app = _Api(
        title="gridtui",
        version=__version__,
        description="The pool's nodes, reservations, memory objects and offload policy, "
        "over the same services as the console and the CLI. Every route needs "
        "`Authorization: Bearer TOKEN` (`gridtui token create`).",
        lifespan=lifespan,
        redoc_url=None,
    )
    app.state.ctx = ctx
    errors.install(app)
    for router in (
        routes_cluster.router,
        routes_reservations.router,
        routes_memory.router,
        routes_work.router,
        events_router,
    ):
        app.include_router(router)
    app.add_middleware(Guard, tokens=ctx.tokens, limits=ctx.limits)
    return app
