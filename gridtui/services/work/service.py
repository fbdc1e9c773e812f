"""WorkService: jobs, actors and tasks, groups and why, for the CLI, the API and the console.

Reads that need only Ray's dashboard (jobs, actors, tasks, groups) run on a worker
thread with their own deadlines; what needs a Ray driver (per-node free resources, a
group's removal, an actor's kill, the controller's reservations and placement) runs on
the gateway's thread. A poll publishes a `WorkSnapshot` to its subscribers."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from gridtui.config import ClusterConfig
from gridtui.errors import OwnGroup
from gridtui.model.ray import match_nodes
from gridtui.model.work import TERMINAL, GroupRow, JobRow, WorkSnapshot
from gridtui.policy import why_inputs
from gridtui.policy.job_request import JobRequest
from gridtui.policy.why import Why, explain
from gridtui.policy.work_rows import (
    group_row,
    job_row,
    job_rows,
    live_job_ids,
    supervisors,
    work_items,
)
from gridtui.services.control.calls import ControlCalls
from gridtui.services.control.client import ControlClient, NotFound, Refused
from gridtui.services.polled import PolledFeed
from gridtui.services.ray.driver_stubs import control_client
from gridtui.services.ray.gateway import RayGateway, RayUnavailable
from gridtui.services.work import driver_side
from gridtui.services.work import logs as job_logs
from gridtui.services.work.dashboard import Dashboard, in_thread
from gridtui.services.work.endpoint import NoDashboard, job_endpoint, require_dashboard
from gridtui.services.work.remote import KillActor, NodeEntries, RemoteDashboard, RemoveGroup
from gridtui.transport.base import Forward, NodeTransport

T = TypeVar("T")
WITHDRAW = 10.0
"""Seconds an interrupted submission waits for Ray's answer, then for the job's removal."""


@dataclass
class Reading:
    """One read of the dashboard: Ray's answers as plain dicts."""

    nodes: list[dict[str, Any]]
    jobs: list[dict[str, Any]]
    actors: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    groups: list[dict[str, Any]]
    names: dict[str, str] = field(default_factory=dict)


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
        remote: bool = False,
    ) -> None:
        self.config = config
        self.timeout = timeout
        self.remote = remote
        """Ray's clients run in the isolated gateway's driver process (services/work/remote.py):
        the console's case, which never imports Ray."""
        self._dashboard = dashboard
        self._owned_gateway = gateway is None
        self._head: NodeTransport | None = None
        self._forward: Forward | None = None
        self._opening = asyncio.Lock()
        self._sent: dict[str, asyncio.Future[str]] = {}
        self.withdrawn: dict[str, str] = {}
        """{submission id: what an interrupted submission left, in words}."""
        super().__init__(
            gateway if gateway is not None else RayGateway(config),
            WorkSnapshot(time=time.time(), message="not read yet"),
        )

    # -- how calls run --------------------------------------------------------------------

    async def board(self) -> Dashboard:
        """The dashboard's clients, reached once (through the head's transport: an SSH
        forward for a remote head) and kept until `close`."""
        async with self._opening:
            if self._dashboard is None:
                from gridtui.transport.factory import make_transport

                require_dashboard(self.config)
                if self._head is None:
                    self._head = make_transport(self.config.head, self.config)
                endpoint, self._forward = await job_endpoint(self.config, self._head)
                self._dashboard = (
                    RemoteDashboard(endpoint, self.timeout, self.gateway.link)
                    if self.remote
                    else Dashboard(endpoint, self.timeout)
                )
        return self._dashboard

    async def _http(self, fn: Callable[[Dashboard], T]) -> T:
        board = await self.board()
        return await in_thread(lambda: fn(board))

    async def _driver(self, fn: Callable[[], T], timeout: float | None = None) -> T:
        if not self.gateway.connected:
            if self.remote:  # the console's Ray view connects its shared driver, not this
                raise RayUnavailable(f"Ray is not reachable: {self.gateway.message}")
            await self.gateway.connect()
        return await self.gateway.call(fn, timeout or self.timeout * 3)

    def control_client(self, owner: str) -> ControlCalls:
        """The controller's client for `owner`, where this service's driver is."""
        if self.remote:
            return control_client(self.gateway, owner)
        return ControlClient(self.config, owner=owner)

    async def close(self) -> None:
        await super().close()
        try:
            if self._forward is not None:
                await self._forward.close()
            if self._head is not None:
                await self._head.close()
        finally:
            self._forward = self._head = None
            if self._owned_gateway:
                await self.gateway.close()

    # -- node names ------------------------------------------------------------------------

    def _names(self, nodes: list[dict[str, Any]]) -> dict[str, str]:
        """{Ray node id: the cluster file's name} (unknown nodes keep their id)."""
        return {str(e.get("node_id")): name for name, e in match_nodes(self.config, nodes).items()}

    # -- jobs -----------------------------------------------------------------------------

    async def _read(self, tasks: bool = True) -> Reading:
        def read(d: Dashboard) -> Reading:
            return Reading(
                nodes=d.nodes(),
                jobs=d.jobs(),
                actors=d.actors(),
                tasks=d.tasks("RUNNING") if tasks else [],
                groups=d.groups(),
            )

        reading = await self._http(read)
        reading.names = self._names(reading.nodes)
        return reading

    async def jobs(self) -> list[JobRow]:
        r = await self._read(tasks=False)
        return list(job_rows(r.jobs, r.actors, r.names))

    async def job(self, jid: str) -> JobRow:
        raw = await self._http(lambda d: d.job(jid))
        r = await self._read(tasks=False)
        return job_row(raw, r.names, supervisors(r.actors).get(jid))

    async def stop_job(self, jid: str) -> tuple[JobRow, bool]:
        """Ask Ray to stop it; (the job as Ray has it after, whether it was running)."""
        stopped = await self._http(lambda d: d.stop(jid))
        return await self.job(jid), stopped

    async def stop_and_forget(self, jid: str, wait: float = 15.0) -> tuple[JobRow, bool]:
        """Stop a job, wait for it to end, then drop its record from Ray's table (what
        DELETE /jobs/{id} does); the last record, and whether it was running. Refused if
        it has not ended within `wait` s (it is still being stopped: ask again)."""
        job, stopped = await self.stop_job(jid)
        deadline = time.monotonic() + wait
        while not job.terminal:
            if time.monotonic() > deadline:
                raise Refused(f"{jid} is still stopping ({job.status.lower()}): ask again")
            await asyncio.sleep(0.2)
            job = await self.job(jid)
        await self._http(lambda d: d.delete(jid))
        return job, stopped

    async def logs(self, jid: str) -> str:
        job = await self.job(jid)
        path = job_logs.local_log(self.config, job.node, jid)
        if path is not None:
            return await asyncio.to_thread(job_logs.read, path)
        return await self._http(lambda d: d.logs(jid))

    def follow(self, job: JobRow, stop: threading.Event) -> Iterator[str]:
        """Blocking: the job's output as it comes, until it ends or `stop` is set (call
        from a thread of its own, with the job as `job()` returned it: the dashboard is
        reached by then)."""
        board = self._dashboard
        if board is None:
            raise NoDashboard("the dashboard was not reached yet: read the job first")
        path = job_logs.local_log(self.config, job.node, job.id)
        if path is None:
            return board.follow(job.id, stop)
        return job_logs.follow(path, lambda: str(board.job(job.id).get("status")) in TERMINAL, stop)

    async def submit(self, options: dict[str, Any], timeout: float = 60.0) -> str:
        board = await self.board()
        # Shielded: a Ctrl-C does not stop Ray from taking the job, so `_withdraw` waits
        # for this answer before it stops the job.
        call = asyncio.ensure_future(in_thread(lambda: board.submit(options, timeout)))
        if options.get("submission_id"):
            self._sent[str(options["submission_id"])] = call
        return await asyncio.shield(call)

    async def submit_request(
        self, request: JobRequest, *, owner: str, timeout: float = 60.0, sid: str = ""
    ) -> JobRow:
        """Place (node, strategy or boost) and submit a checked request; the job as Ray
        has it now. A submission interrupted half-way is stopped and dropped."""
        from gridtui.services.work.submit import submit_job

        sid = sid or new_id()
        try:
            await submit_job(self, self.config, request, owner=owner, timeout=timeout, sid=sid)
        except (KeyboardInterrupt, asyncio.CancelledError):
            self.withdrawn[sid] = await self._withdraw(sid)
            raise
        finally:
            self._sent.pop(sid, None)
        return await self.job(sid)

    async def _withdraw(self, sid: str) -> str:
        """Undo a submission cut short, and say what is left. Ray's answer is awaited
        first (a job it took after the stop would run), then the job stopped and dropped."""
        call = self._sent.get(sid)
        if call is None:
            return "nothing was submitted"
        try:
            await asyncio.wait_for(asyncio.shield(call), WITHDRAW)
        except asyncio.TimeoutError:
            return f"Ray had not answered yet: see `gridtui job status {sid}`"
        except Exception:
            return "Ray did not take the job; nothing was submitted"
        removed = False
        with contextlib.suppress(Exception):
            removed = await asyncio.wait_for(self._http(lambda d: d.discard(sid)), WITHDRAW)
        if removed:
            return f"Ray had taken {sid}: it was stopped and removed"
        return f"{sid} may still be in Ray: `gridtui job stop {sid}`"

    # -- actors, tasks, groups --------------------------------------------------------------

    async def snapshot_now(self, node: str | None = None) -> WorkSnapshot:
        """Read everything once: jobs, live actors, running tasks, groups, and why each
        pending one waits (from Ray's totals and what holds each node: no driver needed)."""
        r = await self._read()
        jobs = job_rows(r.jobs, r.actors, r.names)
        groups = self._group_rows(r)
        items = work_items(r.actors, r.tasks, r.names)
        rooms = why_inputs.rooms(dict(match_nodes(self.config, r.nodes)), groups, items)
        return WorkSnapshot(
            time=time.time(),
            connected=True,
            jobs=jobs,
            items=items if node is None else tuple(i for i in items if i.node == node),
            groups=groups,
            nodes=tuple(n.name for n in self.config.nodes),
            pending=why_inputs.pending_reasons(jobs, groups, rooms),
        )

    def _group_rows(self, r: Reading) -> tuple[GroupRow, ...]:
        by_job = {j.job_id: j for j in job_rows(r.jobs, (), r.names) if j.job_id}
        live = live_job_ids(r.jobs)
        rows = (group_row(g, r.names, by_job, live) for g in r.groups)
        kept = (g for g in rows if g.state != "REMOVED")
        return tuple(sorted(kept, key=lambda g: (g.created or 0.0, g.id)))

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
        rows = self._group_rows(await self._read(tasks=False))
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
        if self.remote:
            await self._driver(lambda: self.gateway.link.call(RemoveGroup(gid)))
        else:
            await self._driver(lambda: driver_side.remove_group(gid))
        return group

    async def kill_actor(self, actor_id: str, name: str = "", namespace: str = "") -> None:
        """Kill a named actor by name and namespace (Ray refuses other drivers a kill by
        id); an unnamed one is refused in one line: only its owner may kill it."""
        if self.remote:
            call = KillActor(actor_id, name, namespace)
            await self._driver(lambda: self.gateway.link.call(call))
        else:
            await self._driver(lambda: driver_side.kill_actor(actor_id, name, namespace))

    async def actor_log(self, actor_id: str, tail: int = 1000) -> str:
        """The last `tail` lines an actor printed (Ray's log API, from its node)."""
        return await self._http(lambda d: d.actor_log(actor_id, tail))

    # -- why --------------------------------------------------------------------------------

    async def why(self, wanted: str) -> Why:
        """Why a job, boost, share, placement group or task waits (or where it runs)."""
        if not wanted or len(wanted) > 128 or not wanted.isprintable():
            raise NotFound("give a job, boost, share, placement group or task id")

        r = await self._read()
        names = r.names
        groups = self._group_rows(r)
        items = work_items(r.actors, r.tasks, names)
        ask, skip = None, ""
        for j in job_rows(r.jobs, r.actors, names):
            if wanted in (j.id, j.job_id):
                ask = why_inputs.job_ask(j)
        found = why_inputs.find_group(groups, wanted) if ask is None else None
        if found is not None:
            ask, skip = why_inputs.group_ask(found[0], found[1], wanted), found[0].id
        if ask is None and _hex(wanted):
            task = await self._http(lambda d: d.task(wanted))
            if task is not None:
                node_id = str(task.get("node_id") or "")
                ask = why_inputs.task_ask(task, names.get(node_id, node_id[:12]))
        if ask is None:
            raise NotFound(f"no job, boost, share, placement group or task {wanted!r}")
        entries: Mapping[str, Mapping[str, Any]]
        if self.remote:
            entries = await self._driver(lambda: self.gateway.link.call(NodeEntries()))
        else:
            entries = await self._driver(lambda: driver_side.node_entries(self.config))
        return explain(ask, why_inputs.rooms(entries, groups, items, skip))


def new_id() -> str:
    """A submission id chosen before submitting, so an interrupted submit can be undone."""
    return f"gridtui-{secrets.token_hex(6)}"


def _hex(text: str) -> bool:
    """Task ids are hex: anything else is no task (Ray's state API fails on it)."""
    return len(text) % 2 == 0 and all(c in "0123456789abcdef" for c in text)
