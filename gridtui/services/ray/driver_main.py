"""The driver process behind services/ray/driver_link.py: one Ray driver, requests in order.

Run as `python -m gridtui.services.ray.driver_main FD` by HostLink only: FD is its end of a
socket pair; the first message is the ClusterConfig, every later one a request
(target, method, args, kwargs) answered with ("ok", value) or ("err", exception)."""

from __future__ import annotations

import os
import pickle
import sys
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

from gridtui.config import ClusterConfig
from gridtui.errors import GridError, one_line
from gridtui.services.control.client import ControlClient
from gridtui.services.memory.client import MemoryService
from gridtui.services.memory.handles import reason
from gridtui.services.memory.transfer import RetrieveJob, StoreJob
from gridtui.services.ray.gateway import RayGateway, RayUnavailable
from gridtui.services.work.remote import TARGET as WORK
from gridtui.services.work.remote import WorkHost


class DriverHost:
    """What the console's requests reach: the driver's own calls, the controller's client
    (one per owner tag), the memory store's client and the transfer jobs it started."""

    def __init__(self, config: ClusterConfig) -> None:
        self.driver = RayGateway(config)
        self.memory = MemoryService(config)
        self.controls: dict[str, ControlClient] = {}
        self.jobs: dict[int, StoreJob | RetrieveJob] = {}
        self._next_job = 0
        self.work: WorkHost | None = None

    def target(self, name: str) -> Any:
        if name == "driver":
            return self.driver
        if name == "memory":
            return self.memory
        if name == WORK:  # the console's Work view: Ray's job and state clients live here
            if self.work is None:
                self.work = WorkHost(self.driver.config)
            return self.work
        if name.startswith("control:"):
            owner = name.removeprefix("control:")
            if owner not in self.controls:
                self.controls[owner] = ControlClient(self.driver.config, owner=owner)
            return self.controls[owner]
        raise GridError(f"the Ray driver has no {name!r}")

    def handle(self, name: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if name.startswith("job:"):
            return self._job_step(int(name.removeprefix("job:")), method)
        if name == "driver" and method not in ("connect_here", "view_here", "run_load_here"):
            raise GridError(f"the Ray driver does not answer {method!r}")
        value = getattr(self.target(name), method)(*args, **kwargs)
        if isinstance(value, StoreJob | RetrieveJob):
            self._next_job += 1
            self.jobs[self._next_job] = value
            return self._next_job
        return value

    def _job_step(self, job_id: int, method: str) -> tuple[Any, bool]:
        job = self.jobs.get(job_id)
        if job is None:
            raise GridError("the transfer is gone (the Ray driver was restarted)")
        if method not in ("begin", "step", "finish", "abort"):
            raise GridError(f"a transfer does not answer {method!r}")
        try:
            value = getattr(job, method)()
        finally:
            if method in ("finish", "abort"):  # over either way
                self.jobs.pop(job_id, None)
        return value, job.done


def portable(exc: BaseException) -> BaseException:
    """The exception as the console can unpickle it without importing Ray: a GridError as
    it is, Ray's own errors as their one line, anything else as a bug (logged here)."""
    if isinstance(exc, GridError):
        try:
            pickle.loads(pickle.dumps(exc))
            return exc
        except Exception:
            return GridError(exc.summary, exc.details)
    if type(exc).__module__.split(".")[0] == "ray":
        return RayUnavailable(reason(exc))
    return GridError(one_line(exc))


def watch_parent(parent: int) -> None:
    """Leave when the console does: a driver stuck on a dead head never reads its EOF."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)


def serve(conn: Connection) -> None:
    host = DriverHost(conn.recv())
    while True:
        try:
            name, method, args, kwargs = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple[str, Any] = ("ok", host.handle(name, method, args, kwargs))
        except BaseException as exc:  # every failure is the caller's answer, the loop goes on
            reply = ("err", portable(exc))
        try:
            conn.send(reply)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            conn.send(("err", GridError(f"the Ray driver could not send its answer: {exc}")))


def main() -> None:
    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    serve(Connection(int(sys.argv[1])))
    # Never ray.shutdown(): with the head gone it does not return; the raylet notices.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
