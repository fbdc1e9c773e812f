"""One JSON error shape for every failure, with the CLI's own message and a fitting status."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.routing import Match

from gridtui.errors import (
    BadOffloadFlag,
    BadRequest,
    ControllerMismatch,
    GridError,
    KeyExists,
    MemoryInputError,
    MemoryRefused,
    NoSuchObject,
    NotFound,
    OwnGroup,
    RayUnavailable,
    Refused,
    TokenFileError,
    UserError,
    one_line,
)

log = logging.getLogger("gridtui.api")


class BodyTooLarge(UserError):
    """A request body over its route's limit: refused before it is all read."""


# First match wins: subclasses before their bases.
STATUS: tuple[tuple[type[GridError], int], ...] = (
    (BodyTooLarge, 413),
    (NotFound, 404),
    (NoSuchObject, 404),
    (KeyExists, 409),
    (OwnGroup, 409),
    (BadRequest, 400),
    (MemoryInputError, 400),
    (BadOffloadFlag, 400),
    (RayUnavailable, 503),
    (ControllerMismatch, 503),
    (TokenFileError, 503),
    (Refused, 409),
    (MemoryRefused, 409),
)


class ErrorBody(BaseModel):
    """Every error's body: the CLI's one line for the same mistake, and the status again."""

    error: str
    status: int
    details: list[str] = Field(default_factory=list, description="each problem, when several")


WHY = {
    400: "bad input: malformed JSON, a wrong type, a bad amount, key, node or parameter",
    401: "no token, or one that is unknown or revoked",
    403: "a read-only token on a route that changes the cluster",
    404: "no such reservation, key, job, group or task",
    405: "the path takes other methods (see Allow)",
    409: "a conflict: the key exists, not enough is free, the cluster refused",
    413: "the request body is over its limit; nothing was stored",
    503: "Ray, the controller or the token file cannot be reached now",
}


def declared(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, each with the one error body."""
    return {code: {"model": ErrorBody, "description": WHY[code]} for code in codes}


def status_of(exc: GridError) -> int:
    for cls, code in STATUS:
        if isinstance(exc, cls):
            return code
    # Anything else that a user can act on: bad usage (exit 2) is the request's fault.
    return 400 if exc.exit_code == 2 else 409


def error_response(status: int, message: str, details: list[str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": message, "status": status}
    if details:
        body["details"] = details
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def _where(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) or "body"


def validation_message(exc: RequestValidationError) -> tuple[str, list[str]]:
    """Pydantic's errors as sentences: the first as the summary, every one as a detail."""
    lines = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            ctx = err.get("ctx") or {}
            lines.append(f"malformed JSON body: {ctx.get('error', 'cannot parse it')}")
            continue
        whole = tuple(err.get("loc", ())) == ("body",)
        if whole and err.get("type") == "missing":
            lines.append("a JSON body is required")
            continue
        if whole and err.get("type") in ("model_attributes_type", "dict_type"):
            lines.append("the body must be a JSON object (Content-Type: application/json)")
            continue
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        lines.append(f"{_where(tuple(err.get('loc', ())))}: {msg}")
    return (lines[0] if lines else "invalid request"), lines


def allowed(request: Request) -> list[str]:
    """Every method the path takes: Starlette's 405 names only its first route's."""
    methods = []
    for method in ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"):
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.routes):
            methods.append(method)
    return methods


def install(app: FastAPI) -> None:
    @app.exception_handler(GridError)
    async def grid_error(_request: Request, exc: GridError) -> JSONResponse:
        return error_response(status_of(exc), exc.summary, exc.details or None)

    @app.exception_handler(RequestValidationError)
    async def bad_input(_request: Request, exc: RequestValidationError) -> JSONResponse:
        summary, lines = validation_message(exc)
        return error_response(400, summary, lines if len(lines) > 1 else None)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        response = error_response(exc.status_code, str(exc.detail))
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:
            response.headers["Allow"] = ", ".join(allowed(request))
        return response

    @app.exception_handler(Exception)
    async def bug(_request: Request, exc: Exception) -> JSONResponse:
        # Its traceback goes to the bug log; the client gets the same one line a user would.
        return error_response(500, one_line(exc))
