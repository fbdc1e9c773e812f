"""The console's Work reads made in its Ray driver process: the console never imports Ray.

Ray's job and state clients import Ray, which the console process never does
(services/ray/driver_link.py). So the console's WorkService is given a `RemoteDashboard`:
each call is one typed request to the driver process (OnWork below, naming the
Dashboard method it runs), answered there by a real `Dashboard` (plain dicts and lists
come back). What needs the driver itself (killing an actor, Ray's free resources for
`why`) goes as its own request (KillActor, RemoveGroup, NodeEntries)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar

from gridtui.errors import GridError
from gridtui.model.work import TERMINAL
from gridtui.services.ray.driver_calls import DriverCall, DriverParty
from gridtui.services.ray.driver_link import HostLink
from gridtui.services.work import driver_side
from gridtui.services.work.dashboard import Dashboard
from gridtui.services.work.endpoint import JobEndpoint

R = TypeVar("R")
P = ParamSpec("P")
D = Dashboard
CALLS: frozenset[Callable[..., Any]] = frozenset(
    {D.jobs, D.job, D.submit, D.stop, D.delete, D.discard, D.logs, D.actor_log, D.actors,
     D.tasks, D.task, D.groups, D.nodes}
)  # fmt: skip
"""The Dashboard methods the console may ask for (OnWork runs nothing else)."""
READ_TIMEOUT = 4.0
"""Seconds a dashboard call may hold the driver process: it answers one request at a time,
and the Ray view's own calls wait behind this one (they give up after 10 s)."""
FOLLOW_EVERY = 1.0
"""Seconds between two reads of a followed job's log from the console."""


@dataclass(frozen=True)
class OnWork(DriverCall[R]):
    """A method of the Dashboard at `endpoint` (services/work/dashboard.py), one of the few
    the console may ask for (services/work/remote.py: CALLS)."""

    endpoint: JobEndpoint
    method: Callable[..., R]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    def run(self, host: DriverParty) -> R:
        if self.method not in CALLS:
            name = getattr(self.method, "__name__", self.method)
            raise GridError(f"the Ray driver does not answer {name!r}")
        board = host.dashboard(self.endpoint)
        bound: Callable[..., R] = getattr(board, self.method.__name__)
        return bound(*self.args, **self.kwargs)


def on_work(
    endpoint: JobEndpoint,
    method: Callable[Concatenate[Dashboard, P], R],
    *args: P.args,
    **kwargs: P.kwargs,
) -> OnWork[R]:
    return OnWork(endpoint, method, args, kwargs)


@dataclass(frozen=True)
class KillActor(DriverCall[None]):
    """Kill a named actor by its name and namespace (an unnamed one is refused)."""

    actor_id: str
    name: str = ""
    namespace: str = ""

    def run(self, host: DriverParty) -> None:
        driver_side.kill_actor(self.actor_id, self.name, self.namespace)


@dataclass(frozen=True)
class RemoveGroup(DriverCall[None]):
    group_id: str

    def run(self, host: DriverParty) -> None:
        driver_side.remove_group(self.group_id)


@dataclass(frozen=True)
class NodeEntries(DriverCall[dict[str, dict[str, Any]]]):
    """Each node's total, available, alive and address (for `why`), as plain dicts."""

    def run(self, host: DriverParty) -> dict[str, dict[str, Any]]:
        entries = driver_side.node_entries(host.driver.config)
        return {name: dict(entry) for name, entry in entries.items()}


class RemoteDashboard(Dashboard):
    """A Dashboard whose every call runs in the driver process (blocking, as Dashboard's
    are: WorkService runs them on threads of their own). The driver bounds each call
    with the Dashboard's deadline."""

    def __init__(self, endpoint: JobEndpoint, timeout: float, link: HostLink) -> None:
        super().__init__(endpoint, timeout)
        self.link = link

    def _ask(
        self, method: Callable[Concatenate[Dashboard, P], R], *args: P.args, **kwargs: P.kwargs
    ) -> R:
        return self.link.call(on_work(self.endpoint, method, *args, **kwargs))

    def jobs_client(self) -> Any:
        raise GridError("the console's job client lives in its Ray driver process")

    state_client = jobs_client

    def jobs(self) -> list[dict[str, Any]]:
        return list(self._ask(D.jobs))

    def job(self, jid: str) -> dict[str, Any]:
        return dict(self._ask(D.job, jid))

    def submit(self, options: dict[str, Any], timeout: float = 60.0) -> str:
        return str(self._ask(D.submit, options, timeout))

    def stop(self, jid: str) -> bool:
        return bool(self._ask(D.stop, jid))

    def delete(self, jid: str) -> bool:
        return bool(self._ask(D.delete, jid))

    def discard(self, jid: str) -> bool:
        return bool(self._ask(D.discard, jid))

    def logs(self, jid: str) -> str:
        return str(self._ask(D.logs, jid))

    def actor_log(self, actor_id: str, tail: int = 1000) -> str:
        return str(self._ask(D.actor_log, actor_id, tail))

    def actors(self) -> list[dict[str, Any]]:
        return list(self._ask(D.actors))

    def tasks(self, state: str = "RUNNING") -> list[dict[str, Any]]:
        return list(self._ask(D.tasks, state))

    def task(self, tid: str) -> dict[str, Any] | None:
        found = self._ask(D.task, tid)
        return None if found is None else dict(found)

    def groups(self) -> list[dict[str, Any]]:
        return list(self._ask(D.groups))

    def nodes(self) -> list[dict[str, Any]]:
        return list(self._ask(D.nodes))

    def follow(self, jid: str, stop: threading.Event | None = None) -> Iterator[str]:
        """Ray's websocket tail cannot cross the link: the log is read again every second
        and what was added is given, until the job ends (one last read) or `stop` is set."""
        stop = stop or threading.Event()
        seen = ""
        while not stop.is_set():
            ended = str(self.job(jid).get("status")) in TERMINAL
            text = self.logs(jid)
            # A log that no longer starts with what was seen was rotated or cut: all of it.
            fresh = text[len(seen) :] if text.startswith(seen) else text
            seen = text
            if fresh:
                yield fresh
            if ended:
                return
            stop.wait(FOLLOW_EVERY)
