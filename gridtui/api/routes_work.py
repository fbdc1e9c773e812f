"""Work on the grid: Ray Jobs (list, submit, status, stop, logs streamed), what runs where,
why something waits, and the placement groups, over the same WorkService as the CLI."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import StreamingResponse

from gridtui.api.context import backend
from gridtui.api.errors import declared
from gridtui.api.schemas_work import JobBody, job_kwargs
from gridtui.backend import Backend
from gridtui.backend.checks import check_job, check_node

router = APIRouter()
Svc = Annotated[Backend, Depends(backend)]
# Ray's submission ids (raysubmit_...), gridtui's (gridtui-...) and the driver job ids.
Jid = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Wid = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_:-]+$")]


def _links() -> dict[str, Any]:
    found = {"jid": "$response.body#/id"}
    return {
        name: {"operationId": name, "parameters": found}
        for name in ("job_status", "stop_job", "job_logs", "why")
    }


@router.get("/jobs", summary="`gridtui job list --json`", responses=declared(400))
async def jobs(svc: Svc) -> list[dict[str, Any]]:
    return [j.to_json() for j in await svc.work().jobs()]


@router.post(
    "/jobs",
    status_code=201,
    summary="`gridtui job submit [--node N | --strategy S | --boost ID] ... -- COMMAND`",
    responses={201: {"links": _links()}, **declared(400, 404, 409)},
)
async def submit_job(svc: Svc, body: JobBody) -> dict[str, Any]:
    # Checked as the CLI checks before it reaches Ray: nothing is sent if bad.
    request = check_job(svc.config, body.command, **job_kwargs(body))
    job = await svc.work().submit_request(
        request, owner=svc.owner_tag("api"), timeout=float(body.timeout)
    )
    return job.to_json()


@router.get(
    "/jobs/{jid}",
    operation_id="job_status",
    summary="`gridtui job status ID --json`",
    responses=declared(400, 404),
)
async def job_status(svc: Svc, jid: Jid) -> dict[str, Any]:
    return (await svc.work().job(jid)).to_json()


@router.delete(
    "/jobs/{jid}",
    operation_id="stop_job",
    summary="`gridtui job stop ID`, then the job's record (and logs) dropped from Ray's table",
    responses=declared(400, 404, 409),
)
async def stop_job(svc: Svc, jid: Jid) -> dict[str, Any]:
    job, stopped = await svc.work().stop_and_forget(jid)
    return dict(job.to_json(), was_running=stopped)


@router.get(
    "/jobs/{jid}/logs",
    operation_id="job_logs",
    summary="`gridtui job logs ID [--follow]`: text, streamed while the job runs",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        **declared(400, 404),
    },
)
async def job_logs(svc: Svc, jid: Jid, follow: bool = Query(False)) -> StreamingResponse:
    work = svc.work()
    job = await work.job(jid)  # an unknown id is a 404 before the stream starts
    if not follow:
        text = await work.logs(jid)
        return StreamingResponse(iter([text.encode()]), media_type="text/plain")
    stop = threading.Event()

    async def stream() -> AsyncIterator[bytes]:
        chunks = work.follow(job, stop)
        try:
            while True:
                chunk = await asyncio.to_thread(next, chunks, None)
                if chunk is None:
                    return
                yield chunk.encode()
        finally:
            stop.set()  # the client left: the follow thread ends at its next look

    return StreamingResponse(stream(), media_type="text/plain")


@router.get("/work", summary="`gridtui work --json`", responses=declared(400))
async def work(svc: Svc, node: str | None = Query(None)) -> dict[str, Any]:
    if node is not None:
        check_node(svc.config, node)
    return (await svc.work().snapshot_now(node)).to_json()


@router.get(
    "/why/{jid}",
    operation_id="why",
    summary="`gridtui why ID --json`: a job, boost, share, placement group or task",
    responses=declared(400, 404),
)
async def why(svc: Svc, jid: Wid) -> dict[str, Any]:
    return (await svc.work().why(jid)).to_json()


@router.get("/groups", summary="`gridtui groups [--orphans] --json`", responses=declared(400))
async def groups(svc: Svc, orphans: bool = Query(False)) -> list[dict[str, Any]]:
    return [g.to_json() for g in await svc.work().groups(orphans=orphans)]
