"""Running the app: the bind checks (loopback, or --allow-remote with TLS), then uvicorn."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from gridtui.api.app import create_app
from gridtui.api.context import ApiContext
from gridtui.api.events import EventHub
from gridtui.api.guard import Limits
from gridtui.backend import make_backend
from gridtui.backend.headless import Headless
from gridtui.config import ClusterConfig
from gridtui.errors import UsageError, UserError


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8765
    allow_remote: bool = False
    tls_cert: str | None = None
    tls_key: str | None = None
    max_upload: int = Limits.upload


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(opts: ServeOptions) -> None:
    """Anything but loopback needs --allow-remote and TLS: tokens never cross a network bare."""
    if (opts.tls_cert is None) != (opts.tls_key is None):
        raise UsageError("--tls-cert and --tls-key go together")
    for what, path in (("--tls-cert", opts.tls_cert), ("--tls-key", opts.tls_key)):
        if path is not None and not Path(path).is_file():
            raise UsageError(f"{what} {path}: no such file")
    if loopback(opts.host):
        return
    if not opts.allow_remote:
        raise UsageError(
            f"refusing to listen on {opts.host}, which is not loopback: "
            "add --allow-remote and TLS (--tls-cert, --tls-key)"
        )
    if opts.tls_cert is None:
        raise UsageError(
            f"refusing to listen on {opts.host} without TLS: give --tls-cert and --tls-key"
        )


def listen(host: str, port: int) -> socket.socket:
    """Bound before uvicorn starts, so a taken port is one clear line, not a log."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Inherited by every connection: without it, small answers wait ~40 ms on delayed ACKs.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


class ApiServer(uvicorn.Server):
    """uvicorn, ending every event stream as its shutdown begins: it waits for open responses
    before the app's own shutdown, and an event stream never ends by itself."""

    def __init__(self, config: uvicorn.Config, events: EventHub | None) -> None:
        super().__init__(config)
        self.events = events

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.events is not None:
            self.events.end_streams()
        await super().shutdown(sockets)


def api_server(ctx: ApiContext, *, manage_backend: bool, **options: Any) -> ApiServer:
    """The app on `ctx` in an ApiServer; `options` are uvicorn.Config's."""
    app = create_app(ctx, manage_backend=manage_backend)
    return ApiServer(uvicorn.Config(app, **options), ctx.events)


def serve(config: ClusterConfig, path: Path | None, opts: ServeOptions) -> int:
    check_bind(opts)
    tokens = Headless.tokens()
    sock = listen(opts.host, opts.port)
    backend = make_backend(config, path, isolated_driver=False)
    ctx = ApiContext(backend, tokens, Limits(upload=opts.max_upload))
    server = api_server(
        ctx,
        manage_backend=True,
        ssl_certfile=opts.tls_cert,
        ssl_keyfile=opts.tls_key,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    scheme = "https" if opts.tls_cert else "http"
    port = sock.getsockname()[1]
    print(
        f"gridtui: serving cluster {config.name} on {scheme}://{opts.host}:{port} "
        f"(OpenAPI at /docs)",
        file=sys.stderr,
        flush=True,
    )
    if not tokens.list():
        print(
            "gridtui: no tokens yet: `gridtui token create --operator` makes one",
            file=sys.stderr,
            flush=True,
        )
    asyncio.run(server.serve(sockets=[sock]))
    return 0
