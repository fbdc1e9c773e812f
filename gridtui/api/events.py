"""Server-sent events: node snapshots (at most one a second), alerts, reservation and offload
events, fanned out to every client through a bounded queue; a client that falls behind is
dropped, so a stalled reader never grows the server's memory."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from gridtui.backend import Backend
from gridtui.errors import GridError
from gridtui.model.nodes import Alert
from gridtui.model.reservations import ReservationEvent

log = logging.getLogger("gridtui.api")
SNAPSHOT_INTERVAL = 1.0
OFFLOAD_POLL = 2.0
KEEPALIVE = 15.0
QUEUE_BYTES = 1024 * 1024  # per client, of events not yet handed to its connection
QUEUE_EVENTS = 256


def frame(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


class Client:
    """One subscriber: its events wait here until its connection takes them."""

    def __init__(self, max_bytes: int, max_events: int) -> None:
        self.queue: deque[bytes] = deque()
        self.queued = 0
        self.max_bytes, self.max_events = max_bytes, max_events
        self.ready = asyncio.Event()
        self.dropped = asyncio.Event()  # its stream ends: it fell behind, or the server stops
        self.lagging = False
        self.sent_at = time.monotonic()

    def offer(self, data: bytes) -> None:
        if self.dropped.is_set():
            return
        if self.queued + len(data) > self.max_bytes or len(self.queue) >= self.max_events:
            self.queue.clear()  # too far behind: let go of everything and of the client
            self.queued = 0
            self.lagging = True
            self.dropped.set()
            return
        self.queue.append(data)
        self.queued += len(data)
        self.ready.set()

    async def take(self) -> bytes | None:
        """The next event, or None once the client is dropped."""
        while not self.queue:
            if self.dropped.is_set():
                return None
            self.ready.clear()
            waiter = asyncio.ensure_future(self.ready.wait())
            dropped = asyncio.ensure_future(self.dropped.wait())
            try:
                await asyncio.wait({waiter, dropped}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()
                dropped.cancel()
        data = self.queue.popleft()
        self.queued -= len(data)
        return data


class EventHub:
    """Subscribes once to the services and serves every client from that: one snapshot is
    built and encoded per interval however many clients listen."""

    def __init__(
        self,
        backend: Backend,
        *,
        interval: float = SNAPSHOT_INTERVAL,
        offload_poll: float = OFFLOAD_POLL,
        max_bytes: int = QUEUE_BYTES,
        max_events: int = QUEUE_EVENTS,
        history: int = 0,
    ) -> None:
        self.backend = backend
        self.history = history  # points of each metric's history in a snapshot
        self.interval = interval
        self.offload_poll = offload_poll
        self.max_bytes, self.max_events = max_bytes, max_events
        self.clients: set[Client] = set()
        self.dropped = 0
        self._changed = True
        self._tasks: list[asyncio.Task[None]] = []
        self._unsubscribe: list[Callable[[], None]] = []
        self._control_seen: object = None
        self._offload_seq = -1

    def start(self) -> None:
        b = self.backend
        self._unsubscribe += [
            b.metrics.subscribe(lambda _snap: self._mark()),
            b.ray_view.subscribe(lambda _view: self._mark()),
            b.alerts.subscribe(self._alert),
        ]
        self._tasks = [
            asyncio.create_task(self._snapshots(), name="api-sse-snapshots"),
            asyncio.create_task(self._offload(), name="api-sse-offload"),
        ]

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        self.end_streams()

    def end_streams(self) -> None:
        """Every stream ends now (the server stops): each client gets the end of its response."""
        for client in list(self.clients):
            client.dropped.set()

    def subscribe(self) -> Client:
        client = Client(self.max_bytes, self.max_events)
        client.offer(frame("snapshot", self.backend.nodes_json(self.history)))
        self.clients.add(client)
        return client

    def remove(self, client: Client) -> None:
        if client not in self.clients:
            return
        self.clients.discard(client)
        if client.lagging:
            self.dropped += 1
            log.warning("dropped an event-stream client that stopped reading")

    def _mark(self) -> None:
        self._changed = True

    def broadcast(self, data: bytes) -> None:
        for client in list(self.clients):
            client.offer(data)

    def _alert(self, alert: Alert) -> None:
        if self.clients:
            self.broadcast(frame("alert", asdict(alert)))

    def _reservation(self, event: ReservationEvent) -> None:
        if self.clients:
            self.broadcast(frame("reservation", event.to_record()))

    async def _snapshots(self) -> None:
        """One encoded snapshot per interval, only when something changed; a comment line
        now and then keeps idle connections (and proxies) from timing out."""
        keepalive = time.monotonic()
        while True:
            await asyncio.sleep(self.interval)
            control = self.backend.control
            if control is not None and control is not self._control_seen:
                self._control_seen = control
                self._unsubscribe.append(control.subscribe_events(self._reservation))
            if not self.clients:
                continue
            if self._changed:
                self._changed = False
                keepalive = time.monotonic()
                self.broadcast(frame("snapshot", self.backend.nodes_json(self.history)))
            elif time.monotonic() - keepalive > KEEPALIVE:
                keepalive = time.monotonic()
                self.broadcast(b": keepalive\n\n")

    async def _offload(self) -> None:
        """The engine's events, read from the controller while anyone listens."""
        while True:
            await asyncio.sleep(self.offload_poll)
            if not self.clients or self.backend.control is None:
                continue
            since = max(self._offload_seq, 0)
            try:
                found = await self.backend.offload_events(since)
            except GridError:
                continue  # Ray away: the snapshot says so; try again later
            events = found.get("events", [])
            if self._offload_seq >= 0:  # the first read only learns where the log is
                for e in events:
                    self.broadcast(frame("offload", e))
            self._offload_seq = max([since, *(int(e["seq"]) for e in events)])


class EventStreamResponse(Response):
    """text/event-stream for one client until it leaves, the server stops, or it is dropped.
    A dropped client's response is still ended properly (the last chunk, then the server
    closes the connection) once it takes what its socket holds; nothing waits on it meanwhile
    but this one coroutine, and the hub has let go of it."""

    media_type = "text/event-stream"

    def __init__(self, hub: EventHub) -> None:
        super().__init__(
            # Closed after the last chunk: a client ended by the server reconnects afresh.
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no", "Connection": "close"},
            media_type=self.media_type,
        )
        self.hub = hub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = self.hub.subscribe()
        # Response's own headers include "content-length: 0" for its empty body: not here.
        headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]

        async def pump() -> None:
            while (data := await client.take()) is not None:
                await send({"type": "http.response.body", "body": data, "more_body": True})

        async def gone() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        left = asyncio.ensure_future(gone())
        try:
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            # A send stuck on a full socket only ends when the client is dropped.
            ended: asyncio.Future[Any] = asyncio.ensure_future(client.dropped.wait())
            streaming = {asyncio.ensure_future(pump()), ended}
            await _first(streaming | {left})
            await _cancel(streaming)
            self.hub.remove(client)
            if not left.done():
                end = {"type": "http.response.body", "body": ENDED, "more_body": False}
                ending = asyncio.ensure_future(send(end))
                await _first({ending, left})
                await _cancel({ending})
        finally:
            self.hub.remove(client)
            await _cancel({left})


ENDED = b": the server ended this stream\n\n"


async def _first(tasks: set[asyncio.Future[Any]]) -> None:
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)


async def _cancel(tasks: set[asyncio.Future[Any]]) -> None:
    """Cancel what is still running; a finished task's error is the connection's, not ours."""
    for task in tasks:
        task.cancel()
    await asyncio.wait(tasks, timeout=1)
    for task in tasks:
        if task.done() and not task.cancelled():
            with contextlib.suppress(Exception):
                task.result()
