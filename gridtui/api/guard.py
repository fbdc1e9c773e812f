"""Before any route runs: a bearer token on every request, its role, and the body's size."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gridtui.api.errors import BodyTooLarge
from gridtui.errors import GridError
from gridtui.model.units import size

if TYPE_CHECKING:
    from gridtui.backend import TokenStore

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# The OpenAPI pages need no token: they describe the API, they serve no data.
OPEN_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc"})
# Methods that change the cluster; a POST that only asks (placement) is a read.
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
READ_POSTS = frozenset({"/place"})
MAX_BODY = 64 * 1024
DEFAULT_MAX_UPLOAD = 8 * 1024**3


@dataclass(frozen=True)
class Limits:
    body: int = MAX_BODY  # JSON request bodies
    upload: int = DEFAULT_MAX_UPLOAD  # PUT /memory/{key}


def _is_upload(method: str, path: str) -> bool:
    return method == "PUT" and path.startswith("/memory/")


def mutating(method: str, path: str) -> bool:
    return method in MUTATING and path not in READ_POSTS


class Guard:
    """An ASGI middleware: 401 without a valid token, 403 for a read-only token on a route
    that changes the cluster, 413 for a body over its limit (announced or counted)."""

    def __init__(self, app: ASGIApp, tokens: TokenStore, limits: Limits) -> None:
        self.app = app
        self.tokens = tokens
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        refusal = self._refusal(scope)
        if refusal is not None:
            await _reply(send, *refusal)
            return
        limit = self.limits.upload if _is_upload(method, path) else self.limits.body
        announced = _header(scope, b"content-length")
        if announced is not None:
            try:
                length = int(announced)
            except ValueError:
                await _reply(send, 400, "Content-Length is not a number")
                return
            if length > limit:
                await _reply(send, 413, _too_large(limit))
                return
        elif not _is_upload(method, path):
            # A JSON body of unknown length (chunked) is read whole here, up to its limit: the
            # route parses it in one go and would make an error over the limit a 400.
            messages = await _read_body(receive, limit)
            if messages is None:
                await _reply(send, 413, _too_large(limit))
                return
            receive = _replay(messages, receive)
        await self.app(scope, _counting(receive, limit), send)

    def _refusal(self, scope: Scope) -> tuple[int, str] | None:
        auth = _header(scope, b"authorization")
        if auth is None:
            return 401, "no token: send 'Authorization: Bearer TOKEN' (`gridtui token create`)"
        scheme, _, secret = auth.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return 401, "the Authorization header must be 'Bearer TOKEN'"
        try:
            token = self.tokens.check(secret.strip())
        except GridError as exc:
            return 503, exc.summary
        if token is None:
            return 401, "unknown or revoked token"
        scope.setdefault("state", {})["token"] = token.name
        if not token.operator and mutating(scope["method"], scope["path"]):
            return 403, (
                f"token {token.name!r} is read-only: {scope['method']} {scope['path']} "
                "changes the cluster and needs an operator token"
            )
        return None


def _too_large(limit: int) -> str:
    return f"request body too large: the limit here is {size(limit, iec=True)}"


def _counting(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(_too_large(limit))
        return message

    return counted


async def _read_body(receive: Receive, limit: int) -> list[Message] | None:
    """The request's messages up to the end of its body, or None once it crosses `limit`."""
    messages: list[Message] = []
    seen = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages  # the client left: the route sees it
        seen += len(message.get("body", b""))
        if seen > limit:
            return None
        if not message.get("more_body", False):
            return messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


async def _reply(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message, "status": status}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
