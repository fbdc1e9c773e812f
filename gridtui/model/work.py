"""Work on the grid as panes and commands show it: Ray Jobs, live actors and tasks, groups."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gridtui.model.feed import NOT_YET, FeedKey

JOB_STATES = ("PENDING", "RUNNING", "SUCCEEDED", "FAILED", "STOPPED")
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "STOPPED"})
KINDS = ("actor", "task", "job")
"""A work item's kind: an actor, a running task, or a job's entrypoint (its supervisor)."""
OWN_NAMESPACE = "gridtui"
GROUP_OWNERS = ("boost", "share", "fence", "job", "unknown")
GRIDTUI_OWNERS = frozenset({"boost", "share", "fence"})
META_OWNER = "gridtui.owner"
META_BOOST = "gridtui.boost"
META_RESOURCES = "gridtui.resources"
"""Ray Jobs metadata keys gridtui sets on a job it submits."""
SUPERVISOR_PREFIX = "_ray_internal_job_actor_"
"""The name Ray gives a job's supervisor actor, followed by the submission id."""


def _resources(data: Any) -> dict[str, float]:
    return {str(k): float(v) for k, v in (data or {}).items()}


@dataclass(frozen=True)
class JobRow:
    """One Ray Jobs submission (`gridtui job list`): `node` is where its entrypoint runs."""

    id: str
    status: str
    entrypoint: str
    node: str = ""
    resources: Mapping[str, float] = field(default_factory=dict)
    """What the entrypoint asked: CPU, GPU, memory (bytes) and custom resources."""
    start: float | None = None
    end: float | None = None
    message: str = ""
    job_id: str = ""
    """Ray's job id (hex) once the driver started: tasks and groups carry it."""
    driver_pid: int | None = None
    owner: str = ""
    boost: str = ""

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def pending(self) -> bool:
        return self.status == "PENDING"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "node": self.node or None,
            "entrypoint": self.entrypoint,
            "resources": dict(self.resources),
            "start": self.start,
            "end": self.end,
            "message": self.message,
            "job_id": self.job_id or None,
            "driver_pid": self.driver_pid,
            "owner": self.owner,
            "boost": self.boost or None,
        }

    def replace(self, **changes: Any) -> JobRow:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class WorkItem:
    """A live actor, a running task, or a job's entrypoint, on one node."""

    kind: str
    id: str
    name: str
    """Class (actors), function (tasks) or submission id (a job's entrypoint)."""
    node: str
    state: str
    cpu: float = 0.0
    gpu: float = 0.0
    pid: int | None = None
    job_id: str = ""
    own: bool = False
    """gridtui's own actors (namespace "gridtui"): shown apart from the user's work."""
    label: str = ""
    """An actor's name, when it was given one."""
    namespace: str = ""
    """An actor's Ray namespace: with its name, how a driver that is not its owner reaches it."""
    group: str = ""
    """The placement group it runs in (hex id), "" for none."""

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "name": self.name,
            "label": self.label,
            "namespace": self.namespace or None,
            "node": self.node,
            "state": self.state,
            "cpu": self.cpu,
            "gpu": self.gpu,
            "pid": self.pid,
            "job_id": self.job_id or None,
            "group": self.group or None,
            "own": self.own,
        }


@dataclass(frozen=True)
class GroupBundle:
    node: str
    """The node holding it ("" while pending)."""
    resources: Mapping[str, float]


@dataclass(frozen=True)
class GroupRow:
    """A placement group and who owns it: a gridtui boost, share or fence (by name), a job
    (its creator is alive), or unknown (its creator is gone)."""

    id: str
    name: str
    owner: str
    """One of GROUP_OWNERS."""
    owner_id: str
    """The reservation id, the fenced node, or the creating job (submission id or job id)."""
    state: str
    strategy: str
    bundles: tuple[GroupBundle, ...]
    created: float | None = None
    detached: bool = False
    creator_job: str = ""
    creator_dead: bool = False

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(b.node for b in self.bundles if b.node))

    @property
    def gridtui(self) -> bool:
        return self.owner in GRIDTUI_OWNERS

    @property
    def orphan(self) -> bool:
        """Detached, its creating job dead, and not gridtui's: nobody will remove it."""
        return self.detached and self.creator_dead and not self.gridtui and self.state != "REMOVED"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "owner": self.owner,
            "owner_id": self.owner_id or None,
            "state": self.state,
            "strategy": self.strategy,
            "nodes": list(self.nodes),
            "bundles": [
                {"node": b.node or None, "resources": dict(b.resources)} for b in self.bundles
            ],
            "created": self.created,
            "detached": self.detached,
            "creator_job": self.creator_job or None,
            "creator_dead": self.creator_dead,
            "orphan": self.orphan,
        }


@dataclass(frozen=True)
class NodeWork:
    """The Nodes pane's work column: what runs on one node now (gridtui's own left out)."""

    actors: int = 0
    tasks: int = 0
    jobs: int = 0

    @property
    def total(self) -> int:
        return self.actors + self.tasks + self.jobs

    def label(self) -> str:
        """`3`, or `-` for nothing; the detail says `2 actors, 1 task`."""
        return str(self.total) if self.total else "-"


@dataclass(frozen=True)
class WorkSnapshot:
    """What the Work view draws, published as one value: jobs, then work items by node,
    the groups, and why each pending job, task or group waits (one line per id)."""

    time: float
    connected: bool = False
    message: str = ""
    jobs: tuple[JobRow, ...] = ()
    items: tuple[WorkItem, ...] = ()
    groups: tuple[GroupRow, ...] = ()
    nodes: tuple[str, ...] = ()
    """The cluster's node names, in the cluster file's order."""
    pending: Mapping[str, str] = field(default_factory=dict)
    """{job, task or group id: why it waits, in one line}."""
    tasks_known: bool = True
    """False when Ray's state API is not served (no dashboard): tasks are then unknown."""

    def user_items(self) -> tuple[WorkItem, ...]:
        return tuple(i for i in self.items if not i.own)

    def own_items(self) -> tuple[WorkItem, ...]:
        return tuple(i for i in self.items if i.own)

    def by_node(self, *, own: bool = False) -> dict[str, tuple[WorkItem, ...]]:
        """{node: its items}, every node of the cluster present (empty ones too), then any
        node Ray knows that the file does not name."""
        out: dict[str, list[WorkItem]] = {n: [] for n in self.nodes}
        for item in self.items:
            if item.own == own:
                out.setdefault(item.node, []).append(item)
        return {n: tuple(v) for n, v in out.items()}

    def counts(self) -> dict[str, NodeWork]:
        """{node: NodeWork} for every node (the Nodes pane's column)."""
        return count_work(self.nodes, self.items)

    def job(self, jid: str) -> JobRow | None:
        return next((j for j in self.jobs if j.id == jid), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "connected": self.connected,
            "message": self.message,
            "jobs": [j.to_json() for j in self.jobs],
            "work": [i.to_json() for i in self.user_items()],
            "gridtui": [i.to_json() for i in self.own_items()],
            "tasks_known": self.tasks_known,
            "pending": dict(self.pending),
            "counts": {n: dataclasses.asdict(c) for n, c in self.counts().items()},
        }


WORK: FeedKey[WorkSnapshot] = FeedKey("work", lambda: WorkSnapshot(time.time(), message=NOT_YET))
"""Jobs, actors and tasks by node, groups, and why each pending one waits (the Work view)."""


def count_work(nodes: Iterable[str], items: Iterable[WorkItem]) -> dict[str, NodeWork]:
    tally: dict[str, list[int]] = {n: [0, 0, 0] for n in nodes}
    slot = {"actor": 0, "task": 1, "job": 2}
    for item in items:
        if item.own or not item.node:
            continue
        tally.setdefault(item.node, [0, 0, 0])[slot.get(item.kind, 0)] += 1
    return {n: NodeWork(*v) for n, v in tally.items()}


def resources_of(data: Any) -> dict[str, float]:
    """A resource map from Ray's answers, as floats."""
    return _resources(data)
