"""The FastAPI app: routes over the Backend facade, the guard, one error shape, the event hub."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.security import HTTPBearer

from gridtui import __version__
from gridtui.api import errors, routes_cluster, routes_memory, routes_reservations
from gridtui.api.context import ApiContext, context
from gridtui.api.events import EventHub, EventStreamResponse
from gridtui.api.guard import Guard

# Documents the scheme in OpenAPI (the Authorize button at /docs); the Guard enforces it.
bearer = HTTPBearer(auto_error=False, description="`gridtui token create` makes one")
events_router = APIRouter()


@events_router.get(
    "/events",
    summary="server-sent events: snapshot (at most 1/s), alert, reservation, offload",
    response_class=EventStreamResponse,
    status_code=200,
)
async def events(request: Request) -> EventStreamResponse:
    hub = context(request).events
    assert hub is not None
    return EventStreamResponse(hub)


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

    app = FastAPI(
        title="gridtui",
        version=__version__,
        description="The pool's nodes, reservations, memory objects and offload policy, "
        "over the same services as the console and the CLI. Every route needs "
        "`Authorization: Bearer TOKEN` (`gridtui token create`).",
        lifespan=lifespan,
        redoc_url=None,
        dependencies=[Depends(bearer)],
    )
    app.state.ctx = ctx
    errors.install(app)
    for router in (
        routes_cluster.router,
        routes_reservations.router,
        routes_memory.router,
        events_router,
    ):
        app.include_router(router)
    app.add_middleware(Guard, tokens=ctx.tokens, limits=ctx.limits)
    return app
