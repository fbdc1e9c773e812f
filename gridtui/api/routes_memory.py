"""Memory objects: list, info, delete, and stores and retrieves streamed a chunk at a time."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from gridtui.api.context import backend
from gridtui.backend import Backend
from gridtui.model.objects import KEY_MAX
from gridtui.services.memory import check_key
from gridtui.services.memory_io import Sink

router = APIRouter()
Svc = Annotated[Backend, Depends(backend)]
Key = Annotated[str, Path(min_length=1, max_length=KEY_MAX)]
# Retrieved chunks waiting for a slow client: a few of the store's 4 MiB chunks at most.
QUEUED_CHUNKS = 4
PIPE_SIZE = 1024 * 1024


@router.get("/memory", summary="`gridtui memory list-objects --json`")
async def objects(svc: Svc) -> dict[str, Any]:
    snap = await svc.memory_service().snapshot_async(svc.ray_call)
    return {
        "objects": [o.to_json(snap.taken) for o in snap.objects],
        "nodes": [u.to_json() for u in snap.usage],
    }


@router.get("/memory/{key}/info", summary="`gridtui memory info KEY --json`")
async def info(svc: Svc, key: Key) -> dict[str, Any]:
    obj = await svc.memory_service().info_async(svc.ray_call, check_key(key))
    return obj.to_json()


@router.delete("/memory/{key}", summary="`gridtui memory delete KEY`")
async def delete(svc: Svc, key: Key) -> dict[str, Any]:
    obj = await svc.memory_service().delete_async(svc.ray_call, check_key(key))
    return dict(obj.to_json(), deleted=True)


@router.get(
    "/memory/{key}",
    summary="`gridtui memory retrieve KEY`: the bytes, streamed (?info for the details)",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def retrieve(
    svc: Svc,
    key: Key,
    request: Request,
    info: Annotated[str | None, Query(description="present (`?info`): the details")] = None,
) -> Any:
    memory = svc.memory_service()
    obj = await memory.info_async(svc.ray_call, check_key(key))  # 404 before any byte
    if "info" in request.query_params and info not in ("false", "0"):
        return JSONResponse(obj.to_json())
    sink = QueueSink(asyncio.get_running_loop())
    job = memory.retrieve_job(key, sink)

    async def call(fn: Callable[[], Any], timeout: float) -> Any:
        await sink.room()  # a slow reader holds the transfer back: memory stays bounded
        return await svc.ray_call(fn, timeout)

    async def body() -> AsyncIterator[bytes]:
        task = asyncio.create_task(memory.run_async(call, job))
        task.add_done_callback(sink.ended)
        try:
            while (chunk := await sink.get()) is not None:
                yield chunk
            await task  # its error, if any: the response ends short of its length
        finally:
            if not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=35)

    headers = {
        "Content-Length": str(obj.size),
        "X-Gridtui-Sha256": obj.sha256,
        "Content-Disposition": f'attachment; filename="{key}"',
    }
    return StreamingResponse(body(), media_type="application/octet-stream", headers=headers)


@router.put(
    "/memory/{key}",
    status_code=201,
    summary="`gridtui memory store KEY -`: the request body, streamed",
    openapi_extra={
        "requestBody": {"content": {"application/octet-stream": {"schema": {"type": "string"}}}}
    },
)
async def store(
    svc: Svc,
    key: Key,
    request: Request,
    node: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    replicas: Annotated[int, Query(ge=1, le=64)] = 1,
    force: bool = False,
) -> dict[str, Any]:
    check_key(key)
    svc.connected_gateway()
    length = request.headers.get("content-length")
    # The CLI's `store KEY -` path: the body goes through a pipe the store job polls, so a
    # stalled client never holds the Ray thread and the job keeps renewing its lease.
    read_fd, write_fd = os.pipe()
    with contextlib.suppress(OSError):
        fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    os.set_blocking(write_fd, False)
    source = os.fdopen(read_fd, "rb", buffering=0)  # the job closes it
    memory = svc.memory_service()
    try:
        job = memory.store_job(
            key, source, node=node, replicas=replicas, force=force,
            size=int(length) if length else None,
        )  # fmt: skip
    except BaseException:
        source.close()
        os.close(write_fd)
        raise
    task = asyncio.create_task(memory.run_async(svc.ray_call, job))
    try:
        try:
            async for piece in request.stream():
                if task.done() or not await _write_all(write_fd, piece, task):
                    break
        except BaseException:
            task.cancel()  # a client gone or over the limit: the job aborts, nothing is left
            await asyncio.wait({task}, timeout=35)
            raise
        finally:
            os.close(write_fd)  # after a full body: end of file, the job commits what it read
        obj = await task
    finally:
        if task.done():
            source.close()
    return obj.to_json()


async def _write_all(fd: int, data: bytes, task: asyncio.Task[Any]) -> bool:
    """Write into the non-blocking pipe, waiting for room; False once the job is gone."""
    view = memoryview(data)
    loop = asyncio.get_running_loop()
    while view:
        try:
            n = os.write(fd, view)
        except BlockingIOError:
            room: asyncio.Future[None] = loop.create_future()
            loop.add_writer(fd, _settle, room)
            try:
                await asyncio.wait({room, task}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                loop.remove_writer(fd)
            if task.done():
                return False
            continue
        except BrokenPipeError:  # the job ended (refused, failed): its error is the answer
            return False
        view = view[n:]
    return True


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


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
