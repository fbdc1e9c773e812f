"""The console's (and the REST API's) facade: the services built once, feeds kept live."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gridtui.backend import checks
from gridtui.backend.calls import ServiceCalls
from gridtui.config import ClusterConfig, find_config, load_config
from gridtui.errors import one_line
from gridtui.feeds import ALERTS, MEMORY, NODES, OFFLOAD, RAY, RESERVATIONS, WORK, Feeds
from gridtui.prefs import Prefs
from gridtui.services.metrics.alerts import AlertStream
from gridtui.services.metrics.hub import MetricsHub
from gridtui.services.ray.view import RayView
from gridtui.transport.factory import make_transports

if TYPE_CHECKING:
    from gridtui.model.reservations import ReservationEvent
    from gridtui.model.work import JobRow
    from gridtui.policy.job_request import JobRequest
    from gridtui.services.cluster.console_ops import ClusterControl
    from gridtui.services.cluster.lifecycle import ClusterOps, NodeProgress, Progress
    from gridtui.services.control.feed import ControlService
    from gridtui.services.memory.client import MemoryService
    from gridtui.services.memory.feed import ConsoleMemory
    from gridtui.services.offload.feed import OffloadFeed
    from gridtui.services.ray.gateway import RayGateway
    from gridtui.services.work.service import WorkService

DEMO_STARTING = "starting demo cluster…"


@dataclass
class Backend(ServiceCalls):
    """Services the fronts share, each publishing its own state: the metrics hub (node
    figures), the Ray view, and the one alert stream every service raises alerts on.
    Building it is cheap; `start` opens the node streams and, unless `ray` is off (recorded
    data), Ray's view: the demo is started first when needed."""

    config: ClusterConfig
    config_path: Path | None = None
    prefs: Prefs = field(default_factory=Prefs)
    hub: MetricsHub | None = None
    streaming: bool = True
    ray: bool = True
    ray_interval: float = 2.0
    isolated_driver: bool = True
    """Ray's driver in a child process (services/ray/driver_link.py), so a head that dies or comes
    back never ends this one. The REST server keeps it in-process: its uploads and
    downloads stream through its own memory-store client."""
    # Tests swap in their own ClusterOps factory (progress callback -> ClusterOps).
    ops_factory: Callable[[Progress | None], ClusterOps] | None = None
    gateway: RayGateway | None = field(default=None, init=False)
    ray_view: RayView = field(default_factory=RayView, init=False)
    alerts: AlertStream = field(default_factory=AlertStream, init=False)
    control: ControlService | None = field(default=None, init=False)
    """Reservations (boosts, shared allocations): built once Ray's driver exists."""
    _memory: MemoryService | None = field(default=None, init=False, repr=False)
    _work: WorkService | None = field(default=None, init=False, repr=False)
    offload: OffloadFeed | None = field(default=None, init=False)
    """Auto-offload's engine as the console sees it: built with `control`."""
    memory: ConsoleMemory | None = field(default=None, init=False)
    """The memory store (listing, stores, retrieves): built once Ray's driver exists."""
    _ray_task: asyncio.Task[None] | None = field(default=None, init=False, repr=False)
    feeds: Feeds = field(default_factory=Feeds, init=False)
    """Every published state, for the fronts to follow (the console's one bridge reads it)."""

    def __post_init__(self) -> None:
        if self.hub is None:
            self.hub = MetricsHub(self.config, alerts=self.alerts)
        else:  # a hub built beforehand (recorded data) brings its own stream
            self.alerts = self.hub.alerts
        self.feeds.provide(NODES, self.hub.published)
        self.feeds.provide(RAY, self.ray_view.published)
        self.feeds.provide(ALERTS, self.alerts)

    @property
    def metrics(self) -> MetricsHub:
        assert self.hub is not None
        return self.hub

    async def start(self) -> None:
        """Connect to every node (SSH imports happen here, after the first frame); Ray's side
        runs as a task, so a slow or absent cluster never holds up the node figures."""
        if self.streaming:
            self.metrics.transports.update(make_transports(self.config))
        await self.metrics.start()
        if self.ray and self._ray_task is None:
            self._ray_task = asyncio.create_task(self._run_ray(), name="backend-ray")

    async def _run_ray(self) -> None:
        from gridtui.services.ray.gateway import RayGateway, RayUnavailable

        self.gateway = RayGateway(self.config, isolated=self.isolated_driver)
        from gridtui.services.control.feed import ControlService

        self.attach_control(ControlService(self.gateway, live=self.metrics.snapshot))
        assert self.control is not None
        self.control.start_polling()
        assert self.offload is not None
        self.offload.start_polling()
        from gridtui.services.memory.feed import ConsoleMemory

        self.attach_memory(ConsoleMemory(self.gateway))
        assert self.memory is not None
        self.memory.start_polling()
        from gridtui.services.work.service import WorkService

        # The console's Work view and Nodes column: its Ray clients run in the driver
        # process, and it polls; the REST server reads on request.
        self.attach_work(WorkService(self.config, self.gateway, remote=self.gateway.isolated))
        if self.gateway.isolated:
            self.work().start_polling()
        if self.config.demo:
            head_up = asyncio.Event()

            async def connect_early() -> None:
                # The driver's connect takes seconds: do it while the workers start.
                await head_up.wait()
                assert self.gateway is not None
                with contextlib.suppress(RayUnavailable):
                    await self.gateway.connect()

            early = asyncio.create_task(connect_early(), name="ray-connect-early")
            try:
                await self._start_demo(on_head_up=head_up.set)
            finally:
                head_up.set()  # a failed start still lets the poll below take over
                await asyncio.wait({early}, timeout=self.gateway.connect_timeout + 5)
        await self.ray_view.run(self.gateway, self.ray_interval)

    async def _start_demo(self, on_head_up: Callable[[], None] = lambda: None) -> None:
        """Start (or attach to) the demo; the header shows its progress meanwhile."""
        from gridtui.services.cluster.demo import ensure_demo_running

        view = self.ray_view
        view.progress(DEMO_STARTING)
        head = self.config.head.name

        def progress(event: NodeProgress) -> None:
            if event.node == head and event.step == "start" and event.state in ("ok", "skipped"):
                on_head_up()
            if event.state in ("running", "ok"):
                detail = f"{event.node} {event.step}" + (" ✓" if event.state == "ok" else "")
                view.progress(f"{DEMO_STARTING} {detail}")

        try:
            await ensure_demo_running(progress)
        except Exception as exc:
            why = one_line(exc)
            view.set(False, {}, f"demo did not start: {why}")
            self.alerts.raise_alert(head, "demo", f"The demo did not start: {why}", "error")
            # The gateway still polls: a demo started later (`gridtui demo start`) shows up.

    def ops(self, progress: Progress | None = None) -> ClusterOps:
        """The lifecycle service for the console, sharing the hub's open node connections."""
        if self.ops_factory is not None:
            return self.ops_factory(progress)
        from gridtui.services.cluster.lifecycle import ClusterOps

        transports = self.metrics.transports if self.streaming else None
        return ClusterOps(
            self.config,
            transports or None,
            progress=progress,
            lean=self.config.demo,
            join_timeout=30,
        )

    def ray_changed(self) -> None:
        """The cluster was started or stopped: read Ray's view now, not at the next poll."""
        self.ray_view.wake()

    async def stop(self) -> None:
        """Stop Ray's side within bounded time, and always the node streams after it."""
        try:
            self.ray_view.close()  # its loop ends even if a cancel is swallowed
            if self._ray_task is not None:
                self._ray_task.cancel()
                # Never an unbounded await: 3.11's wait_for can swallow a racing cancel.
                await asyncio.wait({self._ray_task}, timeout=5)
                self._ray_task = None
            if self.control is not None:
                await self.control.close()
            if self.offload is not None:
                await self.offload.close()
            if self.memory is not None:
                await self.memory.close()
            if self._work is not None:
                await self._work.close()
            if self.gateway is not None:
                await self.gateway.close()
        finally:
            await self.metrics.stop()

    def release_driver(self) -> None:
        """Kill Ray's driver process now and stop reconnecting (the app is gone; its tasks
        are cancelled with its loop). Safe to call at any time, more than once."""
        self.ray_view.request_stop()
        if self.gateway is not None:
            self.gateway.kill_driver()

    # -- reservations: the controller's snapshots and events, for every console ----------

    def attach_control(self, control: ControlService) -> None:
        """Use `control` for reservations (tests attach a fake): its snapshots go to the
        reservations feed, its lost reservations to the alert stream."""
        self.control = control
        self.feeds[RESERVATIONS].publish(control.snapshot)
        control.subscribe(self.feeds[RESERVATIONS].publish)
        control.subscribe_events(self._reservation_event)
        from gridtui.services.offload.feed import OffloadFeed

        gateway = getattr(control, "gateway", None)
        self.offload = OffloadFeed(
            control,
            file_policy=self.config.offload.policy(),
            scopes={n.name: n.sample_scope for n in self.config.nodes},
            head=self.config.head.name,
            config_path=self.config_path,
            ready=(lambda: gateway.connected) if gateway is not None else (lambda: True),
        )
        self.feeds[OFFLOAD].publish(self.offload.snapshot)
        self.offload.subscribe(self.feeds[OFFLOAD].publish)

    def _reservation_event(self, event: ReservationEvent) -> None:
        if event.kind == "lost":
            self.alerts.raise_alert(event.node, "lost", event.message, "error")

    # -- the memory store: its listing for every console, and the dialogs' checks --------

    def attach_memory(self, memory: ConsoleMemory) -> None:
        """Use `memory` for the memory store (tests attach a fake): its listings go to the
        memory feed."""
        self.memory = memory
        self.feeds[MEMORY].publish(memory.snapshot)
        memory.subscribe(self.feeds[MEMORY].publish)

    # -- work: jobs, actors and tasks (the Work view, the Nodes pane's Work column) --------

    def attach_work(self, work: WorkService) -> None:
        """Use `work` for jobs, actors and tasks (tests attach a fake): its snapshots go to
        the work feed."""
        self._work = work
        self.feeds[WORK].publish(work.snapshot)
        work.subscribe(self.feeds[WORK].publish)

    def check_job(
        self, command: str, *, node: str = "", strategy: str = "", cpu: str = "",
        gpu: str = "", memory: str = "",
    ) -> JobRequest:  # fmt: skip
        """The submit form's texts, checked as `job submit` checks its arguments."""
        return checks.check_job_form(
            self.config, command, node=node, strategy=strategy, cpu=cpu, gpu=gpu, memory=memory
        )

    async def submit_job(self, request: JobRequest) -> JobRow:
        """Submit a checked request as this console (the owner Ray's job metadata keeps)."""
        return await self.work().submit_request(request, owner=self.owner_tag("console"))

    # The dialogs' checks: the same as every front's, where input enters the services.
    check_store = staticmethod(checks.check_store)
    check_retrieve = staticmethod(checks.check_retrieve)
    check_reservation = staticmethod(checks.check_reservation)
    check_strategy_name = staticmethod(checks.check_strategy_name)
    strategies = staticmethod(checks.strategies)

    # -- the console's cluster controls (kept together: the rest of Backend is the services') --

    def cluster_control(self) -> ClusterControl:
        """What the console may do to the cluster: plans, operations, logs and shells."""
        # Imported here: the lifecycle modules are not needed for the console's first frame.
        from gridtui.services.cluster.console_ops import ClusterControl

        return ClusterControl(self.config, self.ops, self.ray_changed)

    @classmethod
    def for_console(cls, config: str | None, prefs: Prefs | None = None) -> Backend:
        """The console's back-end: the cluster file found by the usual lookup (`config` is
        -c's value), else the demo's. A bad file raises its ConfigError."""
        path = find_config(config)
        if path is not None:
            return make_backend(load_config(path), path, prefs=prefs)
        from gridtui.services.cluster.demo import (
            demo_config,  # only a console without a file needs it
        )

        return make_backend(demo_config(), None, prefs=prefs)

    def demo_left_running(self) -> tuple[int, int]:
        """(processes, bytes of memory) of a demo cluster this console started and left
        running; (0, 0) for any other cluster, or a demo someone else started or stopped."""
        if not self.config.demo:
            return 0, 0
        from gridtui.agent.nodescript import find_pids
        from gridtui.services.cluster.demo import read_state

        state = read_state()
        # A start this console began and never finished left no "started" record.
        if state.get("console_pid") != os.getpid() and "started" in state:
            return 0, 0
        markers = [f"{self.config.ray.temp_dir}/{n.name}" for n in self.config.nodes]
        pids, table = find_pids(markers)
        return len(pids), sum(table[pid][2] for pid in pids)


def make_backend(
    config: ClusterConfig,
    config_path: Path | None = None,
    *,
    prefs: Prefs | None = None,
    isolated_driver: bool = True,
) -> Backend:
    return Backend(
        config=config,
        config_path=config_path,
        prefs=prefs or Prefs(),
        isolated_driver=isolated_driver,
    )
