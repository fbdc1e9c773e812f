"""The CLI's facade: the services one command needs, built and connected when it asks."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

# Every service is imported where it is first used: a command loads only its own, so the
# CLI's start-up stays what each command costs (no metrics hub, no feeds, no transports).
if TYPE_CHECKING:
    from gridtui.config import ClusterConfig
    from gridtui.services.api_tokens import TokenStore
    from gridtui.services.cluster.lifecycle import ClusterOps, Progress, StartReport
    from gridtui.services.cluster.lookup import Cluster
    from gridtui.services.cluster.procs import StopResult
    from gridtui.services.cluster.status import ClusterStatus
    from gridtui.services.control.client import ControlClient
    from gridtui.services.control.feed import ControlService
    from gridtui.services.memory.client import MemoryService
    from gridtui.services.memory.io import FileSink, StreamSink
    from gridtui.services.work.service import WorkService

T = TypeVar("T")
RayCall = Callable[[Callable[[], Any], float], Awaitable[Any]]
# Seconds for the driver's connect plus the controller's first creation.
CONNECT_SLACK = 60.0
# A memory command's Ray calls (a chunk of a transfer is one).
MEMORY_CALL_TIMEOUT = 60.0


class Headless:
    """One command's view of the services, with no console around it: the cluster is
    looked up on first use (-c's value, the usual lookup, else the running demo), and a Ray
    driver is connected only by a method that needs one, and closed when it returns."""

    def __init__(
        self, config: str | None = None, *, announce: bool = True, cluster: Cluster | None = None
    ) -> None:
        self._explicit = config
        self._announce = announce
        self._cluster = cluster
        self._memory: MemoryService | None = None

    @property
    def cluster(self) -> Cluster:
        """The cluster file's, else the running demo's (said on stderr); else NoCluster."""
        if self._cluster is None:
            from gridtui.services.cluster.lookup import find_cluster

            self._cluster = find_cluster(self._explicit, announce=self._announce)
        return self._cluster

    @property
    def config(self) -> ClusterConfig:
        return self.cluster.config

    def lookup(self) -> Headless:
        """Look the cluster up now: a missing or broken file is said before any connect."""
        _ = self.cluster
        return self

    # -- reservations (boosts, shared allocations, drains, auto-offload) -----------------

    async def control(self, fn: Callable[[ControlClient], T], timeout: float = 30.0) -> T:
        """Run `fn` with the controller's client on a driver's thread, then disconnect."""
        from gridtui.services.control.client import ControlClient, driver, owner_tag

        client = ControlClient(self.config, owner=owner_tag("cli"))
        async with driver(self.config) as gateway:
            return await gateway.call(lambda: fn(client), timeout + CONNECT_SLACK)

    @contextlib.asynccontextmanager
    async def reservations(self) -> AsyncIterator[ControlService]:
        """The ControlService the console uses (its requests wait for Ray in short looks and
        are withdrawn if cut short), on a driver that is closed at the end."""
        from gridtui.services.control.client import ControlClient, driver, owner_tag
        from gridtui.services.control.feed import ControlService

        async with driver(self.config) as gateway:
            yield ControlService(gateway, ControlClient(self.config, owner=owner_tag("cli")))

    async def offload_status(self) -> dict[str, Any]:
        """Auto-offload's running policy, as `--status --json` shows it."""
        from gridtui.services.offload.thresholds import public

        return public(await self.control(lambda c: c.offload_status()))

    async def offload_set(
        self,
        enabled: bool,
        thresholds: dict[str, float],
        sustain: float | None,
        *,
        dry_run: bool,
    ) -> dict[str, Any]:
        """Turn auto-offload on or off with these (checked) changes; what it did after."""
        from gridtui.services.offload.thresholds import apply_policy, public

        config = self.config
        file_policy = config.offload.policy()
        scopes = {n.name: n.sample_scope for n in config.nodes}
        status = await self.control(
            lambda c: apply_policy(
                c, file_policy, scopes, enabled, thresholds, sustain, dry_run=dry_run
            )
        )
        return public(status)

    # -- the memory store ----------------------------------------------------------------

    def memory(self) -> MemoryService:
        """The memory store's client (built once; it checks a job's input before any
        connect, and takes the cluster file's capacities when `memory_calls` connects)."""
        if self._memory is None:
            from gridtui.services.memory.client import MemoryService

            self._memory = MemoryService()
        return self._memory

    @contextlib.asynccontextmanager
    async def memory_calls(self) -> AsyncIterator[RayCall]:
        """The gateway's `call` on a connected driver, which every memory call goes through."""
        from gridtui.services.ray.gateway import RayGateway

        self.memory().configure(self.config)
        gateway = RayGateway(self.config, call_timeout=MEMORY_CALL_TIMEOUT)
        try:
            await gateway.connect()
            yield gateway.call
        finally:
            await gateway.close()

    @staticmethod
    def file_sink(path: str) -> FileSink:
        """An output path opened now, as `cp` opens it (a FIFO waits for its reader)."""
        from gridtui.services.memory.io import FileSink

        return FileSink(path)

    @staticmethod
    def stream_sink(stream: Any) -> StreamSink:
        from gridtui.services.memory.io import StreamSink

        return StreamSink(stream)

    # -- work: Ray Jobs, actors and tasks, placement groups ------------------------------

    @contextlib.asynccontextmanager
    async def work(self) -> AsyncIterator[WorkService]:
        """The work service (its reads go to Ray's dashboard); its forward and the driver it
        may have needed closed at the end."""
        from gridtui.services.work.service import WorkService

        svc = WorkService(self.config)
        try:
            yield svc
        finally:
            await svc.close()

    @staticmethod
    def new_submission_id() -> str:
        from gridtui.services.work.service import new_id

        return new_id()

    @staticmethod
    def owner() -> str:
        """What the controller and Ray record as this command's owner."""
        from gridtui.services.control.client import owner_tag

        return owner_tag("cli")

    # -- the cluster's lifecycle and the demo --------------------------------------------

    @staticmethod
    def ops(config: ClusterConfig, progress: Progress | None = None, **kw: Any) -> ClusterOps:
        """Install, start, stop, status and logs on `config`'s nodes (an async context)."""
        from gridtui.services.cluster.lifecycle import ClusterOps

        return ClusterOps(config, progress=progress, **kw)

    @staticmethod
    def start_failures(report: StartReport) -> list[str]:
        """One line per node that did not join, saying why."""
        from gridtui.services.cluster.lifecycle import describe_failures

        return describe_failures(report)

    @staticmethod
    def status_deadline() -> float:
        from gridtui.services.cluster.lifecycle import STATUS_DEADLINE

        return STATUS_DEADLINE

    @staticmethod
    async def demo_start(progress: Progress | None = None) -> ClusterConfig:
        """Attach to the demo when its three nodes are alive, else (re)start it."""
        from gridtui.services.cluster.demo import ensure_demo_running

        return await ensure_demo_running(progress)

    @staticmethod
    async def demo_status() -> ClusterStatus:
        from gridtui.services.cluster.demo import demo_status

        return await demo_status()

    @staticmethod
    async def demo_stop(progress: Progress | None = None) -> list[StopResult]:
        from gridtui.services.cluster.demo import stop_demo

        return await stop_demo(progress)

    @staticmethod
    async def demo_rotate_token(progress: Progress | None = None) -> None:
        from gridtui.services.cluster.demo import rotate_demo_token

        await rotate_demo_token(progress)

    @staticmethod
    def demo_load_outside(
        config: ClusterConfig, node: str, cpu: float, memory: int, seconds: float
    ) -> list[int]:
        """Plain processes on the node's host, reserving nothing in Ray; stopped at the end."""
        from gridtui.services.cluster import demo_load

        return demo_load.run(config, node, cpu, memory, seconds)

    @staticmethod
    def demo_config() -> ClusterConfig:
        from gridtui.services.cluster.demo import demo_config

        return demo_config()

    @staticmethod
    def ray_token_file(config: ClusterConfig) -> Path:
        from gridtui.services.ray import auth

        return auth.token_file(config)

    @staticmethod
    def ray_shell_prefix(config: ClusterConfig) -> str:
        """What a shell needs before `ray ...` to reach this cluster (its token)."""
        from gridtui.services.ray import auth

        return auth.shell_prefix(config)

    @staticmethod
    async def demo_load(
        config: ClusterConfig,
        node: str,
        cpu: float,
        memory: int,
        seconds: float,
        *,
        connected: Callable[[], None] = lambda: None,
    ) -> int:
        """Load tasks through Ray on one demo node (`connected` is told once the driver
        is); how many finished."""
        from gridtui.services.ray.gateway import RayGateway

        gateway = RayGateway(config)
        try:
            await gateway.connect()
            connected()
            return await gateway.run_load(node, cpu, memory, seconds)
        finally:
            await gateway.close()

    # -- the REST API's tokens -------------------------------------------------------------

    @staticmethod
    def tokens() -> TokenStore:
        from gridtui.services.api_tokens import TokenStore

        return TokenStore()
