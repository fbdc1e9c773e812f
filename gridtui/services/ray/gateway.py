"""RayGateway: the one place the console calls the Ray API, on its own thread, async outside."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import queue
import socket
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from gridtui import paths
from gridtui.config import ClusterConfig
from gridtui.model.nodes import RayNodeInfo
from gridtui.model.ray import ray_infos
from gridtui.services.ray import auth as ray_auth
from gridtui.services.ray.driver_calls import Connect, RunLoad, View
from gridtui.services.ray.driver_link import HostLink, RayUnavailable
from gridtui.services.waits import raise_if_cancelled

T = TypeVar("T")
__all__ = ["RayGateway", "RayUnavailable"]
log = logging.getLogger(__name__)

# A driver gives up on a lost GCS after this many seconds, and Ray then ends the whole
# process: the console must outlive its cluster, so the limit is set far away. The gateway
# notices a lost head itself (a TCP probe) and drops the connection.
_ENV = {
    "RAY_gcs_rpc_server_reconnect_timeout_s": "31536000",
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_DISABLE_IMPORT_WARNING": "1",
}


def _local_address(host: str) -> bool:
    """Whether this machine owns `host` (so a driver here can attach to that node)."""
    try:
        with socket.socket() as s:
            s.bind((host, 0))
        return True
    except OSError:
        return False


def _refusal(exc: BaseException, config: ClusterConfig) -> str:
    """One line when Ray refused our token (its own words are buried in a traceback's
    text inside the error), else ''."""
    seen: BaseException | None = exc
    while seen is not None:
        if "Authentication token is missing or incorrect" in str(seen):
            where = (
                f"the token in {ray_auth.token_file(config)}"
                if ray_auth.enabled(config)
                else "no token (ray.auth: disabled in the cluster file)"
            )
            return (
                f"Ray refused this driver: Authentication token is missing or incorrect; it "
                f"sent {where}. A cluster started with another token needs that token, or a "
                "restart with this one (gridtui cluster rotate-token)"
            )
        seen = seen.__cause__ or seen.__context__
    return ""


def _load_task(seconds: float, memory: int) -> int:
    """Burn one core and hold `memory` bytes (pages touched, so RSS grows) for `seconds`."""
    import time

    block = bytearray(memory)
    for i in range(0, len(block), 4096):
        block[i] = 1
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
    return len(block)


class RayGateway:
    """Owns a thread that runs every Ray call; coroutines await them with a timeout.

    `isolated`: the driver is a child process (services/ray/driver_link.py) and this process never
    imports Ray; the calls made on the thread reach the driver as typed requests (driver_calls.py).
    Long-lived fronts (the console) use it, so a head that dies or restarts cannot take
    them down; a one-shot CLI command keeps its driver in-process."""

    def __init__(
        self,
        config: ClusterConfig,
        *,
        call_timeout: float = 10.0,
        connect_timeout: float = 30.0,
        isolated: bool = False,
    ) -> None:
        self.config = config
        self.isolated = isolated
        self._link = HostLink(config) if isolated else None
        self.call_timeout = call_timeout
        self.connect_timeout = connect_timeout
        self.connected = False
        self.message = "not connected"
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._ray: Any = None
        self._address: tuple[str, str | None] | None = None

    # -- the thread ----------------------------------------------------------------------

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._serve, name="ray-gateway", daemon=True)
            self._thread.start()

    def _serve(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fn, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)

    async def call(self, fn: Callable[[], T], timeout: float | None = None) -> T:
        """Run fn on the gateway thread; raise RayUnavailable when it takes too long."""
        self._ensure_thread()
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._queue.put((fn, future))
        limit = self.call_timeout if timeout is None else timeout
        try:
            result = await asyncio.wait_for(asyncio.wrap_future(future), limit)
        except asyncio.TimeoutError:
            raise RayUnavailable(f"Ray did not answer in {limit:g}s") from None
        raise_if_cancelled()  # answers come in milliseconds: a stop may have raced one
        return result

    # -- connecting ----------------------------------------------------------------------

    def address(self) -> tuple[str, str | None]:
        """(address for ray.init, this machine's node IP or None for a ray:// client).

        Worked out once: finding the local node binds a socket per node name (a DNS
        lookup each), too slow to repeat on every poll of a large cluster."""
        if self._address is None:
            self._address = self._find_address()
        return self._address

    def _find_address(self) -> tuple[str, str | None]:
        configured = self.config.ray.address
        if configured.startswith("ray://"):
            return configured, None
        address = (
            f"{self.config.head.host}:{self.config.ray.port}"
            if configured == "auto"
            else configured
        )
        local = next((n.host for n in self.config.nodes if _local_address(n.host)), None)
        if local is None:
            client = f"ray://{self.config.head.host}:{self.config.ray.client_server_port}"
            raise RayUnavailable(
                "this machine is not a node of the cluster: set ray.address to "
                f"{client} to reach it as a Ray client"
            )
        return address, local

    def _head_answers(self, address: str) -> bool:
        host, _, port = address.removeprefix("ray://").rpartition(":")
        try:
            with socket.create_connection((host, int(port)), timeout=1.0):
                return True
        except (OSError, ValueError):
            return False

    def _connect(self) -> None:
        if self._link is not None:
            self._link.start()
            self._link.call(Connect())
        else:
            self.connect_here()

    def connect_here(self) -> None:
        """Connect this process's driver (the thread's, or the driver process's own)."""
        address, node_ip = self.address()
        if not self._head_answers(address):
            raise RayUnavailable(f"the Ray head at {address} does not answer")
        for key, value in _ENV.items():
            os.environ.setdefault(key, value)
        import ray  # imported here, on this thread, so importing gridtui never pays for it

        # ray.init(configure_logging=False) strips the "ray" logger's handlers, and Python
        # then prints its records on stderr: mute it while connecting, log to a file after.
        logging.getLogger("ray").setLevel(logging.CRITICAL)
        self._enable_faulthandler()
        self._ray = ray
        if ray.is_initialized():
            ray.shutdown()
        try:
            ray_auth.use_here(self.config)
        except ray_auth.RayAuthError as exc:
            raise RayUnavailable(exc.summary) from None
        kwargs: dict[str, Any] = dict(
            address=address,
            log_to_driver=False,
            logging_level=logging.ERROR,
            configure_logging=False,
            namespace="gridtui",
        )
        if node_ip is not None:
            kwargs["_node_ip_address"] = node_ip
        try:
            ray.init(**kwargs)
        except Exception as exc:
            refused = _refusal(exc, self.config)
            if refused:
                raise RayUnavailable(refused) from None
            raise
        self._quiet_ray_logging()
        self._divert_driver_messages()

    @staticmethod
    def _divert_driver_messages() -> None:
        """Ray's driver prints cluster events ("node ... has been marked dead") to stdout
        from a thread of its own, whatever log_to_driver says; the terminal belongs to the
        console (and to a CLI command's own output), so they go to the gateway's log."""
        # Imported on the gateway's thread: the adapter imports Ray, which the console's
        # start never pays for.
        from gridtui.actors import ray_private

        driver_log = logging.getLogger("ray.driver_messages")

        def to_log(data: dict[str, Any], ignore_prefix: bool) -> None:
            for line in data.get("lines", ()):
                driver_log.warning("(%s) %s", data.get("pid", "?"), line)

        ray_private.divert_driver_messages(to_log)

    @staticmethod
    def _enable_faulthandler() -> None:
        """ray.init enables faulthandler on sys.stderr unless it is on already; under the
        console sys.stderr is Textual's capture (no file descriptor) and that raises, so
        crash tracebacks go to a file in the state dir instead."""
        import faulthandler

        if faulthandler.is_enabled():
            return
        paths.state_dir().mkdir(parents=True, exist_ok=True)
        # Kept open for the life of the process: faulthandler writes to its descriptor.
        crash_log = open(paths.state_dir() / "crash.log", "a")  # noqa: SIM115
        faulthandler.enable(file=crash_log, all_threads=True)

    @staticmethod
    def _quiet_ray_logging() -> None:
        """Ray's import gives its logger a stderr handler; send it to a file instead, since
        the terminal belongs to the console."""
        ray_log = logging.getLogger("ray")
        if any(getattr(h, "gridtui", False) for h in ray_log.handlers):
            return
        for handler in list(ray_log.handlers):
            ray_log.removeHandler(handler)
        paths.state_dir().mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(paths.state_dir() / "ray-gateway.log")
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        handler.gridtui = True  # type: ignore[attr-defined]
        ray_log.addHandler(handler)
        ray_log.setLevel(logging.WARNING)
        ray_log.propagate = False

    async def connect(self) -> None:
        """Connect (or reconnect) the driver; raise RayUnavailable with the reason if not."""
        try:
            await self.call(self._connect, self.connect_timeout)
        except RayUnavailable as exc:
            self.connected, self.message = False, str(exc)
            raise
        except Exception as exc:
            self.connected = False
            self.message = f"cannot connect to Ray: {exc.__class__.__name__}: {exc}"
            raise RayUnavailable(self.message) from None
        self.connected, self.message = True, ""

    def _disconnect(self) -> None:
        if self._ray is not None and self._ray.is_initialized():
            self._ray.shutdown()

    async def drop(self, why: str) -> None:
        """Give up the driver after a failure (a lost head): the next connect starts afresh.
        An isolated driver is killed by PID at once: one whose head died cannot shut down."""
        if self._link is not None:
            self._link.kill()
        elif self.connected:
            with contextlib.suppress(Exception):
                await self.call(self._disconnect, 10)
        self.connected, self.message = False, why

    async def close(self) -> None:
        if self._link is not None:
            self._link.kill()
        if self._thread is not None and self._thread.is_alive():
            # A connect that never finished (interrupted, or a head that never answers)
            # still holds the thread: waiting behind it for a disconnect would only delay
            # an interrupted command's exit.
            if self._link is None and self.connected:
                with contextlib.suppress(Exception):
                    await self.call(self._disconnect, 10)
            self._queue.put(None)
        self.connected = False

    def kill_driver(self) -> None:
        """End an isolated driver process at once (nothing to do for a thread's driver)."""
        if self._link is not None:
            self._link.kill()
        self.connected = False

    @property
    def driver_pid(self) -> int | None:
        """The driver process's PID while it runs (isolated gateways only)."""
        return self._link.pid if self._link is not None and self._link.alive() else None

    @property
    def link(self) -> HostLink:
        """The driver process's link (services/ray/driver_stubs.py calls through it), called
        on the gateway's thread; only for an isolated gateway."""
        assert self._link is not None, "the driver process needs an isolated gateway"
        return self._link

    # -- reading the cluster -------------------------------------------------------------

    def _view(self) -> list[dict[str, Any]]:
        if self._link is not None:
            return self._link.call(View())
        return self.view_here()

    def view_here(self) -> list[dict[str, Any]]:
        """Ray's nodes as this process's driver sees them (checked against the head first)."""
        from gridtui.actors import ray_private  # imports Ray: on this thread, after connect
        from gridtui.agent.nodescript import ray_view

        if self._ray is None or not self._ray.is_initialized():
            raise RayUnavailable("not connected to Ray (connect() first)")
        address, _ = self.address()
        if not address.startswith("ray://") and not self._head_answers(address):
            raise RayUnavailable(f"the Ray head at {address} does not answer")
        return ray_view(ray_private.global_state(), nodes=self._ray.nodes())

    async def nodes(self) -> dict[str, RayNodeInfo]:
        """{node name: RayNodeInfo} matched by the gridtui label or the node's address."""
        return ray_infos(self.config, await self.call(self._view))

    # -- load (the demo's) ---------------------------------------------------------------

    def _run_load(self, node: str, cpu: float, memory: int, seconds: float) -> int:
        if self._link is not None:
            return self._link.call(RunLoad(node, cpu, memory, seconds))
        return self.run_load_here(node, cpu, memory, seconds)

    def run_load_here(self, node: str, cpu: float, memory: int, seconds: float) -> int:
        ray = self._ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        info = ray_infos(self.config, self.view_here()).get(node)
        if info is None or not info.alive:
            raise RayUnavailable(f"{node} is not alive in Ray")
        tasks = max(1, round(cpu))
        # The tasks ask for at most the node's CPUs, so they run at once even when the
        # request exceeds what the node declared.
        per_task = min(cpu, info.cpu_total or cpu) / tasks
        strategy = NodeAffinitySchedulingStrategy(info.node_id, soft=False)
        remote = ray.remote(_load_task).options(
            num_cpus=per_task, scheduling_strategy=strategy, max_retries=0
        )
        refs = [remote.remote(seconds, memory // tasks) for _ in range(tasks)]
        try:
            ray.get(refs, timeout=seconds + 120)
        except Exception as exc:  # Ray's own errors carry tracebacks: the user gets one line
            first = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
            raise RayUnavailable(f"the load on {node} failed: {first}") from None
        return len(refs)

    async def run_load(self, node: str, cpu: float, memory: int, seconds: float) -> int:
        """Busy `cpu` cores and hold `memory` bytes on one node through Ray for `seconds`."""
        return await self.call(
            lambda: self._run_load(node, cpu, memory, seconds), timeout=seconds + 150
        )
