"""The driver process behind services/ray/driver_link.py: one Ray driver, requests in order.

Run as `python -m gridtui.services.ray.driver_main FD` by HostLink only: FD is its end of a
socket pair; the first message is the ClusterConfig, every later one a DriverCall
(services/ray/driver_calls.py) answered with an Answer or a Failure."""

from __future__ import annotations

import os
import pickle
import sys
import threading
import time
from multiprocessing.connection import Connection

from gridtui.config import ClusterConfig
from gridtui.errors import GridError, one_line
from gridtui.services.control.client import ControlClient
from gridtui.services.memory.client import MemoryService
from gridtui.services.memory.handles import reason
from gridtui.services.memory.transfer import Job
from gridtui.services.ray.driver_calls import Answer, DriverCall, Failure
from gridtui.services.ray.gateway import RayGateway, RayUnavailable
from gridtui.services.work.dashboard import Dashboard
from gridtui.services.work.endpoint import JobEndpoint
from gridtui.services.work.remote import READ_TIMEOUT


class DriverHost:
    """What the console's requests reach (driver_calls.DriverParty): the driver's own
    calls, the controller's client (one per owner tag), the memory store's client and the
    transfer jobs it started."""

    def __init__(self, config: ClusterConfig) -> None:
        self.driver = RayGateway(config)
        self.memory = MemoryService(config)
        self.controls: dict[str, ControlClient] = {}
        self.jobs: dict[int, Job] = {}
        self._next_job = 0
        self._boards: dict[tuple[str, tuple[tuple[str, str], ...]], Dashboard] = {}

    def control(self, owner: str) -> ControlClient:
        if owner not in self.controls:
            self.controls[owner] = ControlClient(self.driver.config, owner=owner)
        return self.controls[owner]

    def dashboard(self, endpoint: JobEndpoint) -> Dashboard:
        """Ray's job and state clients for the console's Work view, one per endpoint (the
        console may reopen its SSH forward on another port)."""
        key = (endpoint.address, tuple(sorted(endpoint.headers.items())))
        board = self._boards.get(key)
        if board is None:
            board = self._boards[key] = Dashboard(endpoint, READ_TIMEOUT)
        return board

    def keep(self, job: Job) -> int:
        self._next_job += 1
        self.jobs[self._next_job] = job
        return self._next_job

    def job(self, job_id: int, last: bool = False) -> Job:
        """The job, forgotten once `last` (its finish or abort ends it either way)."""
        job = self.jobs.pop(job_id, None) if last else self.jobs.get(job_id)
        if job is None:
            raise GridError("the transfer is gone (the Ray driver was restarted)")
        return job


def portable(exc: BaseException) -> GridError:
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
            call = conn.recv()
        except (EOFError, OSError):
            return
        try:
            if not isinstance(call, DriverCall):
                raise GridError(f"the Ray driver does not answer {call!r}")
            reply: Answer | Failure = Answer(call.run(host))
        except BaseException as exc:  # every failure is the caller's answer, the loop goes on
            reply = Failure(portable(exc))
        try:
            conn.send(reply)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            conn.send(Failure(GridError(f"the Ray driver could not send its answer: {exc}")))


def main() -> None:
    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    serve(Connection(int(sys.argv[1])))
    # Never ray.shutdown(): with the head gone it does not return; the raylet notices.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
