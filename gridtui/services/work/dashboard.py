"""Ray's job server and state API over HTTP (JobSubmissionClient, StateApiClient), bounded.

No Ray driver is needed for these: a CLI command that only lists answers without
`ray.init`. Each call runs with a deadline; Ray's clients raise their own errors, which
become GridError subclasses here."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from gridtui.errors import UserError
from gridtui.services.control.client import NotFound, Refused
from gridtui.services.ray.driver_link import RayUnavailable
from gridtui.services.work.endpoint import JobEndpoint, NoDashboard

T = TypeVar("T")
LIMIT = 10_000
"""Entries per state API listing (Ray's own default is 100)."""


class JobRefused(Refused):
    """Ray's job server refused the submission (its reason, in one line)."""


def bounded(fn: Callable[[], T], timeout: float, what: str) -> T:
    """`fn()` on a daemon thread, waited for at most `timeout` s: Ray's HTTP clients set no
    timeout of their own. A late answer is dropped (the thread ends with the request)."""
    future: concurrent.futures.Future[T] = concurrent.futures.Future()

    def run() -> None:
        try:
            future.set_result(fn())
        except BaseException as exc:
            future.set_exception(exc)

    threading.Thread(target=run, name=f"ray-http-{what}", daemon=True).start()
    try:
        return future.result(timeout)
    except concurrent.futures.TimeoutError:
        raise RayUnavailable(f"Ray's {what} did not answer in {timeout:g}s") from None


async def in_thread(fn: Callable[[], T]) -> T:
    """`fn()` on a daemon thread of its own, awaited. Unlike asyncio.to_thread, a call left
    behind by a Ctrl-C never holds up the process's exit (asyncio.run joins its executor's
    threads, and each of these may wait out its whole deadline)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: Any, exc: BaseException | None) -> None:
        if future.done():  # cancelled meanwhile
            return
        if exc is None:
            future.set_result(result)
        else:
            future.set_exception(exc)

    def run() -> None:
        try:
            outcome: tuple[Any, BaseException | None] = (fn(), None)
        except BaseException as exc:
            outcome = (None, exc)
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
            loop.call_soon_threadsafe(settle, *outcome)

    threading.Thread(target=run, name="ray-http-call", daemon=True).start()
    return await future


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines() or [exc.__class__.__name__])[0][:300]


class Dashboard:
    """Blocking calls to one cluster's dashboard: jobs, actors, tasks, groups, nodes."""

    def __init__(self, endpoint: JobEndpoint, timeout: float = 10.0) -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        self._jobs: Any = None
        self._state: Any = None

    def _translate(self, exc: BaseException, what: str, jid: str = "") -> Exception:
        if isinstance(exc, UserError):
            return exc
        if isinstance(exc, ConnectionError) or "Failed to connect" in str(exc):
            return NoDashboard(
                f"Ray's dashboard at {self.endpoint.address} does not answer (is the cluster "
                "up, with ray.include_dashboard on?)"
            )
        line = _first_line(exc)
        if jid and ("404" in line or "does not exist" in line):
            return NotFound(f"no job {jid!r} in Ray's job table")
        return RayUnavailable(f"Ray's {what} failed: {line}")

    def _call(
        self, fn: Callable[[], T], what: str, jid: str = "", timeout: float | None = None
    ) -> T:
        try:
            return bounded(fn, self.timeout if timeout is None else timeout, what)
        except Exception as exc:
            raise self._translate(exc, what, jid) from None

    def jobs_client(self) -> Any:
        if self._jobs is None:
            from ray.job_submission import JobSubmissionClient

            self._jobs = self._call(
                lambda: JobSubmissionClient(
                    self.endpoint.address, headers=dict(self.endpoint.headers)
                ),
                "job server",
            )
        return self._jobs

    def state_client(self) -> Any:
        if self._state is None:
            from ray.util.state.api import StateApiClient

            self._state = self._call(
                lambda: StateApiClient(self.endpoint.address, headers=dict(self.endpoint.headers)),
                "state API",
            )
        return self._state

    # -- Ray Jobs -------------------------------------------------------------------------

    def jobs(self) -> list[dict[str, Any]]:
        client = self.jobs_client()
        return [_plain(j) for j in self._call(client.list_jobs, "job server")]

    def job(self, jid: str) -> dict[str, Any]:
        client = self.jobs_client()
        return _plain(self._call(lambda: client.get_job_info(jid), "job server", jid))

    def submit(self, options: dict[str, Any], timeout: float = 60.0) -> str:
        """Ray uploads a working dir before it answers: `timeout` covers that."""
        client = self.jobs_client()
        try:
            return str(bounded(lambda: client.submit_job(**options), timeout, "job server"))
        except Exception as exc:
            err = self._translate(exc, "job server")
            if isinstance(err, RayUnavailable) and "failed:" in err.summary:
                raise JobRefused(f"Ray refused the job: {_first_line(exc)}") from None
            raise err from None

    def stop(self, jid: str) -> bool:
        client = self.jobs_client()
        return bool(self._call(lambda: client.stop_job(jid), "job server", jid))

    def delete(self, jid: str) -> bool:
        client = self.jobs_client()
        return bool(self._call(lambda: client.delete_job(jid), "job server", jid))

    def discard(self, jid: str) -> bool:
        """Stop the job and drop its record; whether it was dropped within the deadline
        (NotFound for a job Ray never took)."""
        client = self.jobs_client()
        self._call(lambda: client.stop_job(jid), "job server", jid)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:  # Ray deletes only a job that has ended
            with contextlib.suppress(Exception):
                if self._call(lambda: client.delete_job(jid), "job server", jid):
                    return True
            time.sleep(0.2)
        return False

    def logs(self, jid: str) -> str:
        client = self.jobs_client()
        return str(self._call(lambda: client.get_job_logs(jid), "job server", jid, 30.0))

    def actor_log(self, actor_id: str, tail: int = 1000) -> str:
        """The last `tail` lines of an actor's output, from its node, as the state API's
        log endpoint serves it (what Ray's `get_log(actor_id=...)` asks, with this
        endpoint's address and token: Ray's function finds the address through the GCS)."""
        import urllib.parse
        import urllib.request

        query = urllib.parse.urlencode(
            {"actor_id": actor_id, "lines": tail, "media_type": "file",
             "timeout": int(self.timeout)}
        )  # fmt: skip
        request = urllib.request.Request(
            f"{self.endpoint.address}/api/v0/logs/file?{query}", headers=dict(self.endpoint.headers)
        )

        def read() -> str:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return str(answer.read().decode("utf-8", errors="replace"))

        return self._call(read, "log API")

    def follow(self, jid: str, stop: threading.Event | None = None) -> Iterator[str]:
        """The job's output as it comes (Ray's tail over a websocket), until the job ends
        or `stop` is set. Its own thread and loop: the caller's thread only waits."""
        client = self.jobs_client()
        self.job(jid)  # an unknown id is NotFound here, not an endless wait
        chunks: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=256)
        stop = stop or threading.Event()

        async def pump() -> None:
            async for chunk in client.tail_job_logs(jid):
                if stop.is_set():
                    return
                chunks.put(("data", chunk))

        def run() -> None:
            try:
                asyncio.run(pump())
                chunks.put(("end", None))
            except BaseException as exc:
                chunks.put(("err", exc))

        threading.Thread(target=run, name="ray-job-tail", daemon=True).start()
        while not stop.is_set():
            try:
                kind, value = chunks.get(timeout=0.25)
            except queue.Empty:
                continue
            if kind == "data":
                yield str(value)
            elif kind == "end":
                return
            else:
                raise self._translate(value, "job log tail", jid)

    # -- the state API --------------------------------------------------------------------

    def _list(
        self, resource: str, filters: list[tuple[str, str, Any]], detail: bool = True
    ) -> list[dict[str, Any]]:
        from ray.util.state.common import ListApiOptions, StateResource

        client = self.state_client()
        options = ListApiOptions(
            limit=LIMIT, timeout=int(self.timeout), detail=detail, filters=filters
        )
        found = self._call(
            lambda: client.list(
                StateResource(resource), options=options, raise_on_missing_output=False
            ),
            "state API",
        )
        return [_plain(e) for e in found]

    def actors(self) -> list[dict[str, Any]]:
        return self._list("actors", [("state", "!=", "DEAD")])

    def tasks(self, state: str = "RUNNING") -> list[dict[str, Any]]:
        return self._list("tasks", [("state", "=", state)])

    def task(self, tid: str) -> dict[str, Any] | None:
        found = self._list("tasks", [("task_id", "=", tid)])
        return found[-1] if found else None

    def groups(self) -> list[dict[str, Any]]:
        return self._list("placement_groups", [])

    def nodes(self) -> list[dict[str, Any]]:
        """Ray's node table as the config matcher reads it (labels, address, alive)."""
        out = []
        for n in self._list("nodes", []):
            out.append(
                {
                    "node_id": n.get("node_id", ""),
                    "alive": n.get("state") == "ALIVE",
                    "address": n.get("node_ip", ""),
                    "labels": n.get("labels") or {},
                    "total": n.get("resources_total") or {},
                }
            )
        return out


def _plain(entry: Any) -> dict[str, Any]:
    """A Ray state or job object as a plain dict (they are dataclasses or pydantic models)."""
    if isinstance(entry, dict):
        return entry
    for attr in ("model_dump", "dict"):
        fn = getattr(entry, attr, None)
        if callable(fn):
            data = fn()
            if isinstance(data, dict):
                return {k: getattr(v, "value", v) for k, v in data.items()}
    import dataclasses

    if dataclasses.is_dataclass(entry) and not isinstance(entry, type):
        return {k: getattr(v, "value", v) for k, v in dataclasses.asdict(entry).items()}
    return dict(vars(entry))
