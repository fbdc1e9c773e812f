"""Memory objects: list, info, delete, and stores and retrieves streamed a chunk at a time.

A key may hold `/` (`weights/v3`): every route takes the rest of the path as the key, sent
as is or percent-encoded (`weights%2Fv3`); the details are under their own prefix
(`/memory-info/KEY`), so no key can be mistaken for another route."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel
from starlette.convertors import PathConvertor, register_url_convertor

from gridtui.api.context import backend
from gridtui.api.errors import declared
from gridtui.api.schemas import KEY_PATTERN
from gridtui.backend import Backend
from gridtui.backend.checks import check_key, check_node
from gridtui.model.objects import KEY_CHARS, KEY_MAX


class KeyConvertor(PathConvertor):
    """The rest of the path, newlines too: a key that check_key refuses is a 400, not a
    route that is not there (Starlette's `path` stops at a newline)."""

    regex = r"[\s\S]*"


register_url_convertor("objectkey", KeyConvertor())
router = APIRouter()
Svc = Annotated[Backend, Depends(backend)]
# Checked by check_key, for the CLI's own messages; the schema states the same grammar.
Key = Annotated[
    str,
    Path(
        description=f"up to {KEY_MAX} of {KEY_CHARS}, starting with a letter or a digit; "
        "`/` as is or as `%2F`",
        json_schema_extra={"pattern": KEY_PATTERN, "minLength": 1, "maxLength": KEY_MAX},
        examples=["weights/v3"],
    ),
]
PIPE_SIZE = 1024 * 1024


class ObjectInfo(BaseModel):
    """`gridtui memory info KEY --json`."""

    key: str
    size: int
    sha256: str
    chunks: int
    nodes: list[str]
    replicas: int
    lost_nodes: list[str]
    created: float
    last_read: float
    age_seconds: float
    state: str


class DeletedObject(ObjectInfo):
    deleted: bool


@router.get("/memory", summary="`gridtui memory list-objects --json`", responses=declared(409))
async def objects(svc: Svc) -> dict[str, Any]:
    snap = await svc.memory_service().snapshot_async(svc.ray_call)
    return {
        "objects": [o.to_json(snap.taken) for o in snap.objects],
        "nodes": [u.to_json() for u in snap.usage],
    }


@router.get(
    "/memory-info/{key:objectkey}",
    operation_id="object_info",
    summary="`gridtui memory info KEY --json`",
    response_model=None,
    responses={200: {"model": ObjectInfo}, **declared(400, 404, 409)},
)
async def info(svc: Svc, key: Key) -> dict[str, Any]:
    obj = await svc.memory_service().info_async(svc.ray_call, check_key(key))
    return obj.to_json()


@router.delete(
    "/memory/{key:objectkey}",
    operation_id="delete_object",
    summary="`gridtui memory delete KEY`",
    response_model=None,
    responses={200: {"model": DeletedObject}, **declared(400, 404, 409)},
)
async def delete(svc: Svc, key: Key) -> dict[str, Any]:
    obj = await svc.memory_service().delete_async(svc.ray_call, check_key(key))
    return dict(obj.to_json(), deleted=True)


BYTES = {"schema": {"type": "string", "format": "binary"}}
LINKED = ("retrieve_object", "object_info", "delete_object")
SAME_KEY: dict[str, Any] = {"parameters": {"key": "$request.path.key"}}
SHA256 = {
    "description": "the object's sha256 (hex), taken when it was stored",
    "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
}


@router.get(
    "/memory/{key:objectkey}",
    operation_id="retrieve_object",
    summary="`gridtui memory retrieve KEY`: the bytes, streamed",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "the bytes (with `?info`, deprecated: the details as JSON)",
            "content": {
                "application/octet-stream": BYTES,
                "application/json": {"schema": ObjectInfo.model_json_schema()},
            },
            "headers": {"X-Gridtui-Sha256": SHA256},
        },
        **declared(400, 404, 409),
    },
)
async def retrieve(
    svc: Svc,
    key: Key,
    request: Request,
    info: Annotated[
        str | None,
        Query(
            description="deprecated, use GET /memory-info/KEY: present, the details instead",
            deprecated=True,
        ),
    ] = None,
) -> Any:
    memory = svc.memory_service()
    obj = await memory.info_async(svc.ray_call, check_key(key))  # 404 before any byte
    if "info" in request.query_params and info not in ("false", "0"):
        return JSONResponse(obj.to_json())
    sink = svc.queue_sink(asyncio.get_running_loop())
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
        # The key's last part: a `/` in a file name is refused or stripped by every client.
        "Content-Disposition": f'attachment; filename="{key.rstrip("/").rsplit("/", 1)[-1]}"',
    }
    return StreamingResponse(body(), media_type="application/octet-stream", headers=headers)


@router.put(
    "/memory/{key:objectkey}",
    status_code=201,
    operation_id="store_object",
    summary="`gridtui memory store KEY -`: the request body, streamed",
    response_model=None,
    responses={
        201: {
            "model": ObjectInfo,
            "links": {op: {"operationId": op, **SAME_KEY} for op in LINKED},
        },
        **declared(400, 409),
    },
    openapi_extra={
        "requestBody": {
            "description": "the object's bytes (none: an empty object)",
            "content": {"application/octet-stream": BYTES},
            "required": False,
        }
    },
)
async def store(
    svc: Svc,
    key: Key,
    request: Request,
    # The cluster file's node names: the app fills them into the schema.
    node: Annotated[str | None, Query(description="the node for the first replica")] = None,
    replicas: Annotated[int, Query(ge=1, le=64)] = 1,
    force: Annotated[bool, Query(description="replace an object of that key")] = False,
) -> dict[str, Any]:
    check_key(key)
    if node is not None:
        check_node(svc.config, node)
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
