"""Ray's answers (state API, job table, group table) turned into the Work view's rows."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from gridtui.model.offload import fenced_node
from gridtui.model.reservations import parse_pg_name
from gridtui.model.still_running import short_class
from gridtui.model.work import (
    META_BOOST,
    META_OWNER,
    META_RESOURCES,
    OWN_NAMESPACE,
    SUPERVISOR_PREFIX,
    GroupBundle,
    GroupRow,
    JobRow,
    WorkItem,
    resources_of,
)

RUNNING_TASK = frozenset({"RUNNING", "RUNNING_IN_RAY_GET", "RUNNING_IN_RAY_WAIT"})
PENDING_TASK = frozenset(
    {"PENDING_ARGS_AVAIL", "PENDING_NODE_ASSIGNMENT", "PENDING_OBJ_STORE_MEM_AVAIL",
     "PENDING_ARGS_FETCH", "SUBMITTED_TO_WORKER"}
)  # fmt: skip
ENTRYPOINT = {
    "CPU": "entrypoint_num_cpus",
    "GPU": "entrypoint_num_gpus",
    "memory": "entrypoint_memory",
}


def held(resources: Mapping[str, float], base: str) -> float:
    """What a task or actor holds of `base` (CPU, GPU): plain, or its group's share
    (`CPU_group_<id>` and `CPU_group_<i>_<id>` name the same CPU: the largest counts)."""
    found = [float(v) for k, v in resources.items() if k == base or k.startswith(f"{base}_group_")]
    return max(found, default=0.0)


def _seconds(ms: Any) -> float | None:
    return float(ms) / 1000.0 if ms else None


def _pid(value: Any) -> int | None:
    try:
        pid = int(value or 0)
    except (TypeError, ValueError):
        return None
    return pid or None


def job_row(
    data: Mapping[str, Any],
    names: Mapping[str, str],
    supervisor: Mapping[str, Any] | None = None,
) -> JobRow:
    """A Ray Jobs entry (JobDetails as a dict); `names` maps node ids to node names. What
    the entrypoint asked: gridtui's metadata, else its supervisor actor's resources (Ray's
    job list leaves them out)."""
    meta = data.get("metadata") or {}
    resources = resources_of(data.get("entrypoint_resources"))
    for key, field in ENTRYPOINT.items():
        if data.get(field):
            resources[key] = float(data[field])
    if not resources and meta.get(META_RESOURCES):
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            resources = resources_of(json.loads(meta[META_RESOURCES]))
    if not resources and supervisor is not None:
        resources = resources_of(supervisor.get("required_resources"))
    driver = data.get("driver_info") or {}
    node_id = str(data.get("driver_node_id") or "")
    return JobRow(
        id=str(data.get("submission_id") or data.get("job_id") or ""),
        status=str(data.get("status") or "PENDING"),
        entrypoint=str(data.get("entrypoint") or ""),
        node=names.get(node_id, node_id[:12]) if node_id else "",
        resources=resources,
        start=_seconds(data.get("start_time")),
        end=_seconds(data.get("end_time")),
        message=str(data.get("message") or ""),
        job_id=str(data.get("job_id") or ""),
        driver_pid=_pid(driver.get("pid")),
        owner=str(meta.get(META_OWNER, "")),
        boost=str(meta.get(META_BOOST, "")),
    )


def actor_item(data: Mapping[str, Any], names: Mapping[str, str]) -> WorkItem:
    """An actor (the state API's ActorState, or the private adapter's entry)."""
    res = resources_of(data.get("required_resources") or data.get("resources"))
    label = str(data.get("name") or "")
    namespace = str(data.get("ray_namespace") or data.get("namespace") or "")
    node_id = str(data.get("node_id") or "")
    kind, name = "actor", short_class(str(data.get("class_name") or data.get("class") or ""))
    if label.startswith(SUPERVISOR_PREFIX):
        kind, name = "job", label[len(SUPERVISOR_PREFIX) :]
    return WorkItem(
        kind=kind,
        id=str(data.get("actor_id") or ""),
        name=name,
        node=names.get(node_id, node_id[:12]),
        state=str(data.get("state") or "ALIVE"),
        cpu=held(res, "CPU"),
        gpu=held(res, "GPU"),
        pid=_pid(data.get("pid")),
        job_id=str(data.get("job_id") or ""),
        own=namespace == OWN_NAMESPACE,
        label=label,
        namespace=namespace,
        group=str(data.get("placement_group_id") or ""),
    )


def task_item(data: Mapping[str, Any], names: Mapping[str, str]) -> WorkItem:
    res = resources_of(data.get("required_resources"))
    node_id = str(data.get("node_id") or "")
    return WorkItem(
        kind="task",
        id=str(data.get("task_id") or ""),
        name=str(data.get("func_or_class_name") or data.get("name") or "?"),
        node=names.get(node_id, node_id[:12]),
        state=str(data.get("state") or ""),
        cpu=held(res, "CPU"),
        gpu=held(res, "GPU"),
        pid=_pid(data.get("worker_pid")),
        job_id=str(data.get("job_id") or ""),
        group=str(data.get("placement_group_id") or ""),
    )


def work_items(
    actors: Iterable[Mapping[str, Any]],
    tasks: Iterable[Mapping[str, Any]],
    names: Mapping[str, str],
    node: str | None = None,
) -> tuple[WorkItem, ...]:
    """Live actors and running normal tasks (an actor's method calls are the actor's),
    on `node` only when given; sorted by node, kind, name."""
    items = [actor_item(a, names) for a in actors if str(a.get("state") or "ALIVE") == "ALIVE"]
    items += [
        task_item(t, names)
        for t in tasks
        if str(t.get("state")) in RUNNING_TASK
        and str(t.get("type") or "NORMAL_TASK") == "NORMAL_TASK"
    ]
    if node is not None:
        items = [i for i in items if i.node == node]
    return tuple(sorted(items, key=lambda i: (i.node, i.own, i.kind, i.name, i.id)))


def group_owner(
    name: str, creator_job: str, jobs: Mapping[str, JobRow], dead: bool
) -> tuple[str, str]:
    """(owner, owner id): gridtui's by name prefix; else the creating job while it lives."""
    parsed = parse_pg_name(name)
    if parsed is not None:
        return parsed
    node = fenced_node(name)
    if node is not None:
        return "fence", node
    if creator_job and not dead:
        job = jobs.get(creator_job)
        return "job", job.id if job is not None else creator_job
    return "unknown", creator_job


def group_row(
    data: Mapping[str, Any],
    names: Mapping[str, str],
    jobs: Mapping[str, JobRow],
    live_jobs: frozenset[str] | None,
) -> GroupRow:
    """A placement group (the state API's entry). `jobs` maps Ray job ids to Ray Jobs rows;
    `live_jobs` is every live job id (None: unknown, then a creator counts as alive
    unless Ray's own entry says it is dead)."""
    creator = str(data.get("creator_job_id") or "")
    dead = bool(data.get("creator_job_dead"))
    if live_jobs is not None and creator:
        dead = dead or creator not in live_jobs
    bundles = []
    for b in data.get("bundles") or ():
        node_id = str(b.get("node_id") or "")
        res = resources_of(b.get("unit_resources") or b.get("resources"))
        bundles.append(GroupBundle(names.get(node_id, node_id[:12]), res))
    stats = data.get("stats") or {}
    created_ns = stats.get("creation_request_received_ns")
    name = str(data.get("name") or "")
    owner, owner_id = group_owner(name, creator, jobs, dead)
    return GroupRow(
        id=str(data.get("placement_group_id") or ""),
        name=name,
        owner=owner,
        owner_id=owner_id,
        state=str(data.get("state") or ""),
        strategy=str(data.get("strategy") or ""),
        bundles=tuple(bundles),
        created=float(created_ns) / 1e9 if created_ns else None,
        detached=bool(data.get("is_detached")),
        creator_job=creator,
        creator_dead=dead,
    )


def supervisors(actors: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """{submission id: its supervisor actor's entry} (Ray names them after the job)."""
    out = {}
    for a in actors:
        name = str(a.get("name") or "")
        if name.startswith(SUPERVISOR_PREFIX):
            out[name[len(SUPERVISOR_PREFIX) :]] = a
    return out


def job_rows(
    jobs: Iterable[Mapping[str, Any]], actors: Iterable[Mapping[str, Any]], names: Mapping[str, str]
) -> tuple[JobRow, ...]:
    """The Ray Jobs submissions (drivers started by hand are not jobs here), oldest first."""
    sup = supervisors(actors)
    rows = (
        job_row(j, names, sup.get(str(j.get("submission_id"))))
        for j in jobs
        if j.get("submission_id")
    )
    return tuple(sorted(rows, key=lambda j: (j.start or 0.0, j.id)))


def live_job_ids(jobs: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """Ray job ids (hex) of drivers still running, from the job table's entries."""
    out = set()
    for j in jobs:
        jid = str(j.get("job_id") or "")
        if (
            jid
            and not j.get("end_time")
            and str(j.get("status")) not in ("SUCCEEDED", "FAILED", "STOPPED")
        ):
            out.add(jid)
    return frozenset(out)


def orphans(groups: Iterable[GroupRow]) -> tuple[GroupRow, ...]:
    return tuple(g for g in groups if g.orphan)
