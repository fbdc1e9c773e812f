"""The REST API on a real uvicorn on loopback, in a thread: for unit tests and benches."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from gridtui.api.context import ApiContext
from gridtui.api.server import api_server


class ThreadServer:
    """`with ThreadServer(ctx) as s:` serves `ctx` at `s.url` until the block ends."""

    def __init__(
        self,
        ctx: ApiContext,
        *,
        manage_backend: bool = True,
        sndbuf: int | None = None,
        http: str = "auto",
    ) -> None:
        self.ctx = ctx
        self.sock = socket.socket()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if sndbuf is not None:  # inherited by accepted connections: a stall shows sooner
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = api_server(
            ctx,
            manage_backend=manage_backend,
            log_level="error",
            access_log=False,
            lifespan="on",
            http=http,
        )
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread = threading.Thread(target=self._run, name="api-server", daemon=True)

    def _run(self) -> None:
        async def main() -> None:
            self.loop = asyncio.get_running_loop()
            await self.server.serve(sockets=[self.sock])

        asyncio.run(main())

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run `fn` on the server's loop (where the services live)."""
        assert self.loop is not None
        self.loop.call_soon_threadsafe(fn, *args)

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert self.thread.is_alive(), "the server thread ended"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        self.sock.close()
