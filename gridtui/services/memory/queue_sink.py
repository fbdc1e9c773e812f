"""A retrieve's bytes for an asyncio reader (the REST API's download), with bounded memory."""

from __future__ import annotations

import asyncio
from typing import Any

from gridtui.services.memory.io import Sink

# Retrieved chunks waiting for a slow client: a few of the store's 4 MiB chunks at most.
QUEUED_CHUNKS = 4


class QueueSink(Sink):
    """A retrieve's sink: chunks written on the Ray thread, read by the response on the loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._taken = asyncio.Event()

    def write(self, data: Any) -> None:
        chunk = bytes(data)  # the view is Ray's: it is gone after this call
        self.loop.call_soon_threadsafe(self.queue.put_nowait, chunk)

    def ended(self, _task: asyncio.Task[Any]) -> None:
        self.queue.put_nowait(None)

    async def get(self) -> bytes | None:
        item = await self.queue.get()
        self._taken.set()
        return item

    async def room(self) -> None:
        while self.queue.qsize() >= QUEUED_CHUNKS:
            self._taken.clear()
            await self._taken.wait()
