"""Nodes, cluster status, placement and the offload policy: reads and one policy change."""

from __future__ import annotations

import gzip
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from gridtui.api.context import backend
from gridtui.api.errors import declared
from gridtui.api.schemas import (
    OffloadBody,
    PlaceBody,
    check_request_body,
    grammar_problem,
)
from gridtui.backend import Backend
from gridtui.backend.checks import (
    check_request,
    check_strategy_name,
    check_sustain,
    check_thresholds,
)
from gridtui.errors import BadOffloadFlag
from gridtui.model.offload import RESOURCES

router = APIRouter()
Svc = Annotated[Backend, Depends(backend)]
STATUS_DEADLINE = 20.0


class _Encoded:
    """GET /nodes encoded once per change of what it shows (the hub's coalesced snapshot,
    Ray's view, the reservations), not once per request: polling dashboards cost bytes only.
    Gzipped once too, for clients that take it: on loopback most of a request's server CPU
    was the kernel copying the 36 KiB answer for 100 nodes; gzipped it is 3.3 KiB."""

    def __init__(self) -> None:
        self.key: tuple[Any, ...] = ()
        self.body = b""
        self._gzipped: bytes | None = None

    def get(self, svc: Backend, history: int) -> bytes:
        control = svc.control.snapshot if svc.control is not None else None
        key = (svc, svc.metrics.snapshot(), svc.ray_view.view(), control, history)
        if any(a is not b for a, b in zip(key, self.key, strict=False)) or not self.key:
            self.body = json.dumps(svc.nodes_json(history), separators=(",", ":")).encode()
            self._gzipped = None
            self.key = key
        return self.body

    def gzipped(self) -> bytes:
        """The body `get` returned last, gzipped (made on the first request that takes it)."""
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, compresslevel=5, mtime=0)
        return self._gzipped


_nodes = _Encoded()


@router.get(
    "/nodes",
    summary="every node: state, live figures, Ray's view, reserved amounts",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}, **declared(400)},
)
async def nodes(
    svc: Svc, request: Request, history: Annotated[int, Query(ge=0, le=3600)] = 0
) -> Response:
    body = _nodes.get(svc, history)
    headers = {"Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        body = _nodes.gzipped()
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="application/json", headers=headers)


@router.get(
    "/cluster",
    summary="`gridtui cluster status --json`: SSH, Ray and resources",
    responses=declared(400),
)
async def cluster(
    svc: Svc, timeout: Annotated[float, Query(gt=0, le=600)] = STATUS_DEADLINE
) -> dict[str, Any]:
    ops = svc.ops()
    ops.progress = lambda _event: None
    status = await ops.status(timeout)
    return dict(status.to_json(), healthy=status.healthy)


@router.post(
    "/place",
    summary="the node a strategy picks now for one task (reserves nothing)",
    responses=declared(400, 409),
)
async def place(svc: Svc, body: PlaceBody) -> dict[str, str]:
    asked = [
        (rtype, value)
        for rtype, value in (("cpu", body.cpu), ("gpu", body.gpu), ("memory", body.memory))
        if value is not None and not (value == 0 and not isinstance(value, str))
    ]
    for rtype, value in asked:
        check_request_body(rtype, value, None)
    need = {rtype: check_request(rtype, value, None).amount for rtype, value in asked}
    return await svc.place(need, check_strategy_name(body.strategy))


@router.get(
    "/offload/policy", summary="`gridtui offload auto --status --json`", responses=declared(409)
)
async def offload_policy(svc: Svc) -> dict[str, Any]:
    return await svc.offload_status()


@router.put(
    "/offload/policy",
    summary="`gridtui offload auto --enable|--disable ...`",
    responses=declared(400, 409),
)
async def set_offload_policy(svc: Svc, body: OffloadBody) -> dict[str, Any]:
    # The CLI's own parsers: the same checks, the same messages.
    thresholds = check_thresholds([f"{r}={v}" for r, v in body.thresholds.items()])
    unknown = sorted(set(body.thresholds) - set(RESOURCES))
    if unknown:  # the CLI's parser also takes `CPU` or ` cpu`: the schema names them exactly
        raise BadOffloadFlag(f"unknown resource {unknown[0]!r} (known: {', '.join(RESOURCES)})")
    sustain = None
    if body.sustain is not None:
        problem = grammar_problem("sustain", body.sustain, "sustain")
        if problem is not None:
            raise BadOffloadFlag(problem)
        text = body.sustain if isinstance(body.sustain, str) else f"{float(body.sustain):f}"
        sustain = check_sustain(text)
    if not body.enabled and (thresholds or sustain is not None or body.dry_run):
        raise BadOffloadFlag("turning it off takes no thresholds, sustain or dry_run")
    return await svc.offload_set(body.enabled, thresholds, sustain, dry_run=body.dry_run)


@router.get(
    "/offload/events",
    summary="`gridtui offload events --json`: what it did and why",
    responses=declared(400, 409),
)
async def offload_events(svc: Svc, since: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
    return await svc.offload_events(since)
