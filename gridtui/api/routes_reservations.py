"""Boosts and shared allocations: list, request, release, through the console's ControlService."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from gridtui.api.context import backend
from gridtui.api.errors import declared
from gridtui.api.schemas import BoostBody, ShareBody, check_request_body
from gridtui.backend import Backend
from gridtui.backend.checks import check_node, check_request, check_strategy_name, check_timeout

router = APIRouter()
Svc = Annotated[Backend, Depends(backend)]
Rid = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def _release_link(operation: str) -> dict[str, Any]:
    return {operation: {"operationId": operation, "parameters": {"rid": "$response.body#/id"}}}


async def _listing(svc: Backend, kind: str, history: bool) -> list[dict[str, Any]]:
    svc.connected_gateway()
    snap = await svc.controller().refresh()  # read now: a request just made is in it
    rows = [*snap.reservations, *(snap.history if history else ())]
    return [r.to_json() for r in rows if r.kind == kind]


async def _release(svc: Backend, rid: str) -> dict[str, Any]:
    svc.connected_gateway()
    result = await svc.controller().release(rid)
    return dict(result.reservation.to_json(), already_released=result.already)


@router.get("/boosts", summary="`gridtui boost status --json`", responses=declared(400))
async def boosts(svc: Svc, history: bool = Query(False)) -> list[dict[str, Any]]:
    return await _listing(svc, "boost", history)


@router.post(
    "/boosts",
    status_code=201,
    summary="`gridtui boost request NODE TYPE AMOUNT`",
    responses={201: {"links": _release_link("release_boost")}, **declared(400, 409)},
)
async def request_boost(svc: Svc, body: BoostBody) -> dict[str, Any]:
    # Checked as the CLI checks before it connects: nothing reaches the cluster if bad.
    check_request_body(body.type, body.amount, body.ttl)
    req = check_request(body.type, body.amount, body.ttl)
    check_node(svc.config, body.node)
    svc.connected_gateway()
    boost = await svc.controller().boost(body.node, req, timeout=check_timeout(body.timeout))
    return boost.to_json()


@router.delete(
    "/boosts/{rid}",
    operation_id="release_boost",
    summary="`gridtui boost release ID`",
    responses=declared(400, 404, 409),
)
async def release_boost(svc: Svc, rid: Rid) -> dict[str, Any]:
    return await _release(svc, rid)


@router.get("/sharing", summary="`gridtui resource-sharing status --json`", responses=declared(400))
async def shares(svc: Svc, history: bool = Query(False)) -> list[dict[str, Any]]:
    return await _listing(svc, "share", history)


@router.post(
    "/sharing",
    status_code=201,
    summary="`gridtui resource-sharing request TYPE AMOUNT`",
    responses={201: {"links": _release_link("release_share")}, **declared(400, 409)},
)
async def request_share(svc: Svc, body: ShareBody) -> dict[str, Any]:
    check_request_body(body.type, body.amount, body.ttl)
    req = check_request(body.type, body.amount, body.ttl)
    strategy = check_strategy_name(body.strategy)
    svc.connected_gateway()
    share = await svc.controller().share(req, strategy, timeout=check_timeout(body.timeout))
    return share.to_json()


@router.delete(
    "/sharing/{rid}",
    operation_id="release_share",
    summary="`gridtui resource-sharing release ID`",
    responses=declared(400, 404, 409),
)
async def release_share(svc: Svc, rid: Rid) -> dict[str, Any]:
    return await _release(svc, rid)
