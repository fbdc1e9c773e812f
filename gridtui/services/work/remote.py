"""The console's Work reads made in its Ray driver process: the console never imports Ray.

Ray's job and state clients import Ray, which the console process never does
(services/ray/driver_link.py). So the console's WorkService is given a `RemoteDashboard`:
each call is one request to the driver process, where `WorkHost` answers it with a real
`Dashboard` (plain dicts and lists come back). What needs the driver itself (killing an
actor, Ray's free resources for `why`) goes to the same host."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any, Protocol

from gridtui.config import ClusterConfig
from gridtui.errors import GridError
from gridtui.model.work import TERMINAL
from gridtui.services.work import driver_side
from gridtui.services.work.dashboard import Dashboard
from gridtui.services.work.endpoint import JobEndpoint

TARGET = "work"
"""The driver host's name for the WorkHost (services/ray/driver_main.py)."""
CALLS = frozenset(
    {"jobs", "job", "submit", "stop", "delete", "discard", "logs", "actor_log",
     "actors", "tasks", "task", "groups", "nodes"}
)  # fmt: skip
"""The Dashboard methods the console may ask for (nothing else is run by name)."""
READ_TIMEOUT = 4.0
"""Seconds a dashboard call may hold the driver process: it answers one request at a time,
and the Ray view's own calls wait behind this one (they give up after 10 s)."""
FOLLOW_EVERY = 1.0
"""Seconds between two reads of a followed job's log from the console."""


class WorkHost:
    """In the driver process: one Dashboard per endpoint (the console may reopen its SSH
    forward on another port), the driver's own calls beside them."""

    def __init__(self, config: ClusterConfig, timeout: float = READ_TIMEOUT) -> None:
        self.config = config
        self.timeout = timeout
        self._boards: dict[tuple[str, tuple[tuple[str, str], ...]], Dashboard] = {}

    def call(self, endpoint: JobEndpoint, method: str, args: tuple[Any, ...]) -> Any:
        if method not in CALLS:
            raise GridError(f"the Work host does not answer {method!r}")
        key = (endpoint.address, tuple(sorted(endpoint.headers.items())))
        board = self._boards.get(key)
        if board is None:
            board = self._boards[key] = Dashboard(endpoint, self.timeout)
        return getattr(board, method)(*args)

    def kill_actor(self, actor_id: str) -> None:
        driver_side.kill_actor(actor_id)

    def remove_group(self, gid: str) -> None:
        driver_side.remove_group(gid)

    def node_entries(self) -> dict[str, Any]:
        return {k: dict(v) for k, v in driver_side.node_entries(self.config).items()}


class HostProxy(Protocol):
    """The WorkHost as the console's side calls it (through the driver link)."""

    def call(self, endpoint: JobEndpoint, method: str, args: tuple[Any, ...]) -> Any: ...
    def kill_actor(self, actor_id: str) -> None: ...
    def remove_group(self, gid: str) -> None: ...
    def node_entries(self) -> dict[str, Any]: ...


class RemoteDashboard(Dashboard):
    """A Dashboard whose every call runs in the driver process (blocking, as Dashboard's
    are: WorkService runs them on threads of their own). The driver bounds each call
    with the Dashboard's deadline."""

    def __init__(self, endpoint: JobEndpoint, timeout: float, host: HostProxy) -> None:
        super().__init__(endpoint, timeout)
        self.host = host

    def _ask(self, method: str, *args: Any) -> Any:
        return self.host.call(self.endpoint, method, args)

    def jobs_client(self) -> Any:
        raise GridError("the console's job client lives in its Ray driver process")

    state_client = jobs_client

    def jobs(self) -> list[dict[str, Any]]:
        return list(self._ask("jobs"))

    def job(self, jid: str) -> dict[str, Any]:
        return dict(self._ask("job", jid))

    def submit(self, options: dict[str, Any], timeout: float = 60.0) -> str:
        return str(self._ask("submit", options, timeout))

    def stop(self, jid: str) -> bool:
        return bool(self._ask("stop", jid))

    def delete(self, jid: str) -> bool:
        return bool(self._ask("delete", jid))

    def discard(self, jid: str) -> bool:
        return bool(self._ask("discard", jid))

    def logs(self, jid: str) -> str:
        return str(self._ask("logs", jid))

    def actor_log(self, actor_id: str, tail: int = 1000) -> str:
        return str(self._ask("actor_log", actor_id, tail))

    def actors(self) -> list[dict[str, Any]]:
        return list(self._ask("actors"))

    def tasks(self, state: str = "RUNNING") -> list[dict[str, Any]]:
        return list(self._ask("tasks", state))

    def task(self, tid: str) -> dict[str, Any] | None:
        found = self._ask("task", tid)
        return None if found is None else dict(found)

    def groups(self) -> list[dict[str, Any]]:
        return list(self._ask("groups"))

    def nodes(self) -> list[dict[str, Any]]:
        return list(self._ask("nodes"))

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
