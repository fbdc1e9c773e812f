"""The driver process's protocol: each request HostLink sends it, typed by what it answers.

Both ends are this same gridtui (the child runs the parent's interpreter and path), so
requests and answers cross as pickled dataclasses. A request names the client method it
runs as a function (`ControlClient.release`), never as a string, and its arguments are
checked against that method's signature by mypy (`on_control`, `on_memory`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, Protocol, TypeVar

from gridtui.errors import GridError

if TYPE_CHECKING:
    from gridtui.model.objects import StoredObject, TransferProgress
    from gridtui.services.control.client import ControlClient
    from gridtui.services.memory.client import MemoryService
    from gridtui.services.memory.transfer import Job, RetrieveJob, StoreJob
    from gridtui.services.ray.gateway import RayGateway
    from gridtui.services.work.dashboard import Dashboard
    from gridtui.services.work.endpoint import JobEndpoint

R = TypeVar("R")
P = ParamSpec("P")


class DriverParty(Protocol):
    """What the driver process holds (services/ray/driver_main.py: DriverHost)."""

    driver: RayGateway
    memory: MemoryService

    def control(self, owner: str) -> ControlClient: ...
    def keep(self, job: Job) -> int: ...
    def job(self, job_id: int, last: bool = False) -> Job: ...
    def dashboard(self, endpoint: JobEndpoint) -> Dashboard: ...


class DriverCall(Generic[R]):
    """A request whose answer is an R."""

    def run(self, host: DriverParty) -> R:
        raise NotImplementedError


@dataclass(frozen=True)
class Answer:
    value: object


@dataclass(frozen=True)
class Failure:
    """The request's error, as the console can unpickle it without Ray (driver_main)."""

    error: GridError


# -- the driver's own ------------------------------------------------------------------------


@dataclass(frozen=True)
class Connect(DriverCall[None]):
    def run(self, host: DriverParty) -> None:
        host.driver.connect_here()


@dataclass(frozen=True)
class View(DriverCall[list[dict[str, Any]]]):
    def run(self, host: DriverParty) -> list[dict[str, Any]]:
        return host.driver.view_here()


@dataclass(frozen=True)
class RunLoad(DriverCall[int]):
    node: str
    cpu: float
    memory: int
    seconds: float

    def run(self, host: DriverParty) -> int:
        return host.driver.run_load_here(self.node, self.cpu, self.memory, self.seconds)


# -- the clients it holds ----------------------------------------------------------------------


@dataclass(frozen=True)
class OnControl(DriverCall[R]):
    """A method of the controller's client of `owner` (one client per owner tag)."""

    owner: str
    method: Callable[..., R]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    def run(self, host: DriverParty) -> R:
        client = host.control(self.owner)
        _check(type(client), self.method)
        return self.method(client, *self.args, **self.kwargs)


def on_control(
    owner: str,
    method: Callable[Concatenate[ControlClient, P], R],
    *args: P.args,
    **kwargs: P.kwargs,
) -> OnControl[R]:
    return OnControl(owner, method, args, kwargs)


@dataclass(frozen=True)
class OnMemory(DriverCall[R]):
    """A method of the memory store's client; a job it starts stays in the driver (NewJob)."""

    method: Callable[..., R]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    def run(self, host: DriverParty) -> R:
        _check(type(host.memory), self.method)
        return self.method(host.memory, *self.args, **self.kwargs)


def on_memory(
    method: Callable[Concatenate[MemoryService, P], R], *args: P.args, **kwargs: P.kwargs
) -> OnMemory[R]:
    return OnMemory(method, args, kwargs)


@dataclass(frozen=True)
class NewJob(DriverCall[int]):
    """Start a store or retrieve job (`start` is OnMemory's): its id in the driver."""

    start: OnMemory[StoreJob] | OnMemory[RetrieveJob]

    def run(self, host: DriverParty) -> int:
        return host.keep(self.start.run(host))


# -- a transfer job's steps (each answer says whether it is done) ----------------------------


@dataclass(frozen=True)
class JobBegin(DriverCall[bool]):
    job_id: int

    def run(self, host: DriverParty) -> bool:
        job = host.job(self.job_id)
        job.begin()
        return job.done


@dataclass(frozen=True)
class JobStep(DriverCall["tuple[TransferProgress, bool]"]):
    job_id: int

    def run(self, host: DriverParty) -> tuple[TransferProgress, bool]:
        job = host.job(self.job_id)
        return job.step(), job.done


@dataclass(frozen=True)
class JobFinish(DriverCall["StoredObject"]):
    job_id: int

    def run(self, host: DriverParty) -> StoredObject:
        return host.job(self.job_id, last=True).finish()


@dataclass(frozen=True)
class JobAbort(DriverCall[None]):
    job_id: int

    def run(self, host: DriverParty) -> None:
        host.job(self.job_id, last=True).abort()


def _check(cls: type, method: Callable[..., object]) -> None:
    """Only a public method of the client runs: the request names one, nothing else."""
    name = getattr(method, "__name__", "")
    if name.startswith("_") or getattr(cls, name, None) is not method:
        raise GridError(f"the Ray driver does not answer {name or method!r}")
