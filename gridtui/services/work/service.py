"""WorkService: jobs, actors and tasks, groups and why, for the CLI, the API and the console.

Reads that need only Ray's dashboard (jobs, actors, tasks, groups) run on a worker
thread with their own deadlines; what needs a Ray driver (per-node free resources, a
group's removal, an actor's kill, the controller's reservations and placement) runs on
the gateway's thread. A poll publishes a `WorkSnapshot` to its subscribers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from gridtui.config import ClusterConfig
from gridtui.errors import UserError
from gridtui.model.ray import match_nodes
from gridtui.model.work import GroupRow, JobRow, WorkSnapshot
from gridtui.policy import why_inputs
from gridtui.policy.why import Why, explain
from gridtui.policy.work_rows import (
    PENDING_TASK,
    group_row,
    job_row,
    live_job_ids,
    work_items,
)
from gridtui.services.control import NotFound
from gridtui.services.polled import PolledFeed
from gridtui.services.ray_gateway import RayGateway
from gridtui.services.work import driver_side
from gridtui.services.work.dashboard import Dashboard
from gridtui.services.work.endpoint import NoDashboard, job_endpoint

T = TypeVar("T")


class OwnGroup(UserError):
    """A gridtui group (boost, share, fence) asked to be removed without --force."""


class WorkService(PolledFeed[WorkSnapshot]):
    task_name = "work-poll"
    interval = 2.0

    def __init__(
        self,
        config: ClusterConfig,
        gateway: RayGateway | None = None,
        *,
        dashboard: Dashboard | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.config = config
        self.timeout = timeout
        self._dashboard = dashboard
        self._owned_gateway = gateway is None
        super().__init__(
            gateway if gateway is not None else RayGateway(config),
            WorkSnapshot(time=time.time(), message="not read yet"),
        )

    # -- how calls run --------------------------------------------------------------------

    @property
    def dashboard(self) -> Dashboard:
        if self._dashboard is None:
            self._dashboard = Dashboard(job_endpoint(self.config), self.timeout)
        return self._dashboard

    async def _http(self, fn: Callable[[Dashboard], T]) -> T:
        board = self.dashboard
        return await asyncio.to_thread(fn, board)

    async def _driver(self, fn: Callable[[], T], timeout: float | None = None) -> T:
        if not self.gateway.connected:
            await self.gateway.connect()
        return await self.gateway.call(fn, timeout or self.timeout * 3)

    async def close(self) -> None:
        await super().close()
        if self._owned_gateway:
            await self.gateway.close()

    # -- node names ------------------------------------------------------------------------

    def _names(self, nodes: list[dict[str, Any]]) -> dict[str, str]:
        """{Ray node id: the cluster file's name} (unknown nodes keep their id)."""
        return {str(e.get("node_id")): name for name, e in match_nodes(self.config, nodes).items()}

    # -- jobs -----------------------------------------------------------------------------

    async def jobs(self) -> list[JobRow]:
        raw, nodes = await self._http(lambda d: (d.jobs(), d.nodes()))
        names = self._names(nodes)
        rows = [job_row(j, names) for j in raw if j.get("submission_id")]
        return sorted(rows, key=lambda j: (j.start or 0.0, j.id))

    async def job(self, jid: str) -> JobRow:
        raw, nodes = await self._http(lambda d: (d.job(jid), d.nodes()))
        return job_row(raw, self._names(nodes))

    async def stop_job(self, jid: str) -> tuple[JobRow, bool]:
        """Ask Ray to stop it; (the job as Ray has it after, whether it was running)."""
        stopped = await self._http(lambda d: d.stop(jid))
        return await self.job(jid), stopped

    async def discard(self, jid: str) -> None:
        """Stop a job and drop it from Ray's table (a submission interrupted half-way)."""
        await self._http(lambda d: d.discard(jid))

    async def logs(self, jid: str) -> str:
        return await self._http(lambda d: d.logs(jid))

    def follow(self, jid: str, stop: Any = None) -> Iterator[str]:
        """Blocking: the job's output as it comes (call from a thread of its own)."""
        return self.dashboard.follow(jid, stop)

    async def submit(self, options: dict[str, Any], timeout: float = 60.0) -> str:
        return await self._http(lambda d: d.submit(options, timeout))

    # -- actors, tasks, groups --------------------------------------------------------------

    async def snapshot_now(self, node: str | None = None) -> WorkSnapshot:
        """Read everything once: jobs, live actors, running tasks, groups, pending reasons."""

        def read(d: Dashboard) -> tuple[Any, ...]:
            return d.nodes(), d.jobs(), d.actors(), d.tasks("RUNNING"), d.groups()

        nodes, jobs_raw, actors, tasks, groups_raw = await self._http(read)
        names = self._names(nodes)
        jobs = tuple(
            sorted(
                (job_row(j, names) for j in jobs_raw if j.get("submission_id")),
                key=lambda j: (j.start or 0.0, j.id),
            )
        )
        groups = self._group_rows(groups_raw, jobs_raw, names)
        pending = {j.id: "waits for room: `gridtui why " + j.id + "`" for j in jobs if j.pending}
        pending.update(
            {
                g.id: "waits for room: `gridtui why " + g.id + "`"
                for g in groups
                if g.state == "PENDING"
            }
        )
        return WorkSnapshot(
            time=time.time(),
            connected=True,
            jobs=jobs,
            items=work_items(actors, tasks, names, node),
            groups=groups,
            nodes=tuple(n.name for n in self.config.nodes),
            pending=pending,
        )

    def _group_rows(
        self,
        groups_raw: list[dict[str, Any]],
        jobs_raw: list[dict[str, Any]],
        names: dict[str, str],
    ) -> tuple[GroupRow, ...]:
        by_job = {r.job_id: r for r in (job_row(j, names) for j in jobs_raw) if r.job_id and r.id}
        live = live_job_ids(jobs_raw)
        rows = (group_row(g, names, by_job, live) for g in groups_raw)
        return tuple(
            sorted(
                (g for g in rows if g.state != "REMOVED"), key=lambda g: (g.created or 0.0, g.id)
            )
        )

    async def refresh(self) -> WorkSnapshot:
        snap = await self.snapshot_now()
        self._publish(snap)
        return snap

    def unavailable(self, message: str) -> WorkSnapshot:
        return WorkSnapshot(time=time.time(), message=message, nodes=self.snapshot.nodes)

    async def poll(self, interval: float | None = None) -> None:
        # The dashboard answers without a driver: mark the gateway's state irrelevant.
        pause = self.interval if interval is None else interval
        while True:
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._publish(self.unavailable(getattr(exc, "summary", None) or str(exc)))
            await asyncio.sleep(pause)

    async def groups(self, *, orphans: bool = False) -> list[GroupRow]:
        nodes, jobs_raw, groups_raw = await self._http(lambda d: (d.nodes(), d.jobs(), d.groups()))
        rows = self._group_rows(groups_raw, jobs_raw, self._names(nodes))
        return [g for g in rows if g.orphan] if orphans else list(rows)

    async def remove_group(self, gid: str, *, force: bool = False) -> GroupRow:
        """Remove a placement group; gridtui's own only with `force` (they have their own
        release). NotFound for an id Ray does not list (or lists as removed)."""
        rows = {g.id: g for g in await self.groups()}
        group = rows.get(gid)
        if group is None:
            raise NotFound(f"no placement group {gid!r} (see `gridtui groups`)")
        if group.gridtui and not force:
            how = {"boost": "gridtui boost release", "share": "gridtui resource-sharing release",
                   "fence": "gridtui offload / node undrain"}[group.owner]  # fmt: skip
            raise OwnGroup(
                f"{gid} is gridtui's {group.owner} {group.owner_id}: `{how}` gives it back "
                "(or --force removes the group itself)"
            )
        await self._driver(lambda: driver_side.remove_group(gid))
        return group

    async def kill_actor(self, actor_id: str) -> None:
        await self._driver(lambda: driver_side.kill_actor(actor_id))

    # -- why --------------------------------------------------------------------------------

    async def why(self, wanted: str) -> Why:
        """Why a job, boost, share, placement group or task waits (or where it runs)."""
        if not wanted or len(wanted) > 128 or not wanted.isprintable():
            raise NotFound("give a job, boost, share, placement group or task id")

        def read(d: Dashboard) -> tuple[Any, ...]:
            return d.nodes(), d.jobs(), d.actors(), d.tasks("RUNNING"), d.groups()

        nodes, jobs_raw, actors, tasks, groups_raw = await self._http(read)
        names = self._names(nodes)
        groups = self._group_rows(groups_raw, jobs_raw, names)
        items = work_items(actors, tasks, names)
        ask, skip = None, ""
        for j in jobs_raw:
            if wanted in (j.get("submission_id"), j.get("job_id")):
                ask = why_inputs.job_ask(job_row(j, names))
        found = why_inputs.find_group(groups, wanted) if ask is None else None
        if found is not None:
            ask, skip = why_inputs.group_ask(found[0], found[1], wanted), found[0].id
        if ask is None:
            task = await self._http(lambda d: d.task(wanted))
            if task is None:
                raise NotFound(f"no job, boost, share, placement group or task {wanted!r}")
            node_id = str(task.get("node_id") or "")
            ask = why_inputs.task_ask(task, names.get(node_id, node_id[:12]))
            if str(task.get("state")) not in PENDING_TASK:
                ask = ask.__class__(ask.id, ask.kind, ask.state, ask.bundles, where=ask.where)
        entries = await self._driver(lambda: driver_side.node_entries(self.config))
        return explain(ask, why_inputs.rooms(entries, groups, items, skip))


def dashboard_problem(config: ClusterConfig) -> str | None:
    """Why this cluster has no job server to reach (None when it has one)."""
    try:
        job_endpoint(config)
    except NoDashboard as exc:
        return exc.summary
    return None
