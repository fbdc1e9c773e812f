"""A job submission from checked input to Ray Jobs: the working dir, where it runs, submit."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gridtui.config import ClusterConfig
from gridtui.model.reservations import Reservation
from gridtui.policy.job_request import (
    BadJob,
    BoostPlace,
    JobRequest,
    check_job,
    same_owner,
    submit_options,
)
from gridtui.policy.scheduler import STRATEGIES
from gridtui.services.control.client import BadRequest, NotFound, Refused, owner_tag

if TYPE_CHECKING:
    from gridtui.services.work.service import WorkService

WORKING_DIR_MAX = 500 * 1024**2
"""Ray refuses a working dir whose zip passes 512 MiB (its gRPC message limit); gridtui
refuses one over 500 MiB of files before anything is zipped or sent."""


class JobInputError(BadRequest):
    """Malformed job input (exit 2): nothing was sent."""


def check(config: ClusterConfig, command: list[str], **kw: Any) -> JobRequest:
    """check_job with the cluster's node names and the strategies; JobInputError if bad."""
    try:
        request = check_job(
            command,
            nodes=[n.name for n in config.nodes],
            strategies=STRATEGIES,
            **kw,
        )
    except BadJob as exc:
        raise JobInputError(str(exc)) from None
    if request.working_dir is not None:
        check_working_dir(request.working_dir)
    return request


def check_working_dir(path: str, limit: int = WORKING_DIR_MAX) -> Path:
    """A directory that exists and holds at most `limit` bytes of files (sizes as stat
    reports them: a sparse file counts whole, as Ray's zip would read it)."""
    where = Path(path).expanduser()
    if not where.is_dir():
        what = "is not a directory" if where.exists() else "does not exist"
        raise JobInputError(f"--working-dir {path} {what}")
    total = 0
    for root, _dirs, files in os.walk(where):
        for name in files:
            try:
                total += (Path(root) / name).lstat().st_size
            except OSError:
                continue
            if total > limit:
                raise JobInputError(
                    f"--working-dir {path} holds more than {limit // 1024**2} MiB of files: "
                    "Ray uploads it whole with every job; put data in the memory store or on "
                    "shared storage"
                )
    return where


def check_boost(
    boost_id: str, reservations: Sequence[Reservation], owner: str, config: ClusterConfig
) -> BoostPlace:
    """The caller's active boost `boost_id`, as the place a job runs in."""
    found = next((r for r in reservations if r.id == boost_id and r.kind == "boost"), None)
    if found is None:
        raise NotFound(f"no boost {boost_id!r} (see `gridtui boost status`)")
    if found.state not in ("active", "expiring") or not found.pg_id:
        raise Refused(f"boost {boost_id} is {found.state}, not active: a job cannot run in it")
    if not same_owner(found.owner, owner):
        raise Refused(f"boost {boost_id} is {found.owner.split(' (')[0]}'s, not yours")
    return BoostPlace(found.id, found.pg_id, config.node(found.bundles[0].node).host)


async def submit_job(
    svc: WorkService,
    config: ClusterConfig,
    request: JobRequest,
    *,
    owner: str = "",
    timeout: float = 60.0,
    sid: str | None = None,
) -> str:
    """Resolve where it runs (node, strategy or boost), then JobSubmissionClient.submit_job."""
    owner = owner or owner_tag("cli")
    node_ip: str | None = None
    boost: BoostPlace | None = None
    if request.node is not None:
        node_ip = config.node(request.node).host
        await _check_alive(svc, config, request.node)
    elif request.strategy is not None or request.boost is not None:
        client = svc.control_client(owner)
        if request.strategy is not None:
            need = request.need()
            picked = await svc._driver(lambda: client.place(need, request.strategy or ""))
            node_ip = config.node(picked["node"]).host
        else:
            rid = request.boost or ""
            snap = await svc._driver(lambda: client.snapshot(False))
            rows = [*snap.reservations, *snap.history]
            boost = check_boost(rid, rows, owner, config)
    options = submit_options(
        request, node_ip=node_ip, boost=boost, owner=owner, working_dir=request.working_dir
    )
    if sid:
        options["submission_id"] = sid
    return await svc.submit(options, timeout)


async def _check_alive(svc: WorkService, config: ClusterConfig, node: str) -> None:
    nodes = await svc._http(lambda d: d.nodes())
    from gridtui.model.ray import match_nodes

    entry = match_nodes(config, nodes).get(node)
    if entry is None or not entry.get("alive"):
        raise Refused(f"{node} is not alive in Ray: a job pinned there would wait forever")
