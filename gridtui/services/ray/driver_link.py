"""The console's Ray driver in a child process, and the link that calls into it.

Why a process: a Ray driver cannot outlive its head. While the GCS is gone its calls hang,
`ray.shutdown()` never returns, and when a new head comes up on the same address the old
driver's pending requests meet a new cluster id and Ray aborts the whole process
(global_state_accessor: WrongClusterID). A console must show "Ray down" and carry on, so
its driver lives in a child it can kill by PID and start afresh: the console process
never imports Ray at all. The child runs one request at a time (services/ray/driver_main.py;
the requests are services/ray/driver_calls.py); the parent sends them from the gateway's
thread, so they keep the order they had."""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TypeVar, cast

from gridtui import paths
from gridtui.config import ClusterConfig
from gridtui.errors import RayUnavailable
from gridtui.services.ray import auth as ray_auth
from gridtui.services.ray.driver_calls import DriverCall, Failure

R = TypeVar("R")

DRIVER_LOG = "ray-driver.log"
DRIVER_NICENESS = 10


class DriverGone(RayUnavailable):
    """The driver process ended (killed after a lost head, or crashed): its log says why."""


class HostLink:
    """One driver process at a time; `request` blocks the calling thread for the answer."""

    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        self._proc: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._lock = threading.Lock()
        # Leaving the interpreter kills the driver too (its own watchdog would, a second later).
        atexit.register(self.kill)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """A fresh driver process (the old one, if any, is killed first)."""
        self.kill()
        mine, theirs = socket.socketpair()
        paths.state_dir().mkdir(parents=True, exist_ok=True)
        package_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        ray_auth.apply(self.config, env)  # the cluster's settings, never what ~/.ray holds
        with open(paths.state_dir() / DRIVER_LOG, "ab") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "gridtui.services.ray.driver_main", str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
                # Its own session: a terminal's signals are the console's to handle.
                start_new_session=True,
            )
        theirs.close()
        # Below the console in the CPU's queue: on a busy host (a transfer hashing and
        # copying chunks) the console's frames come first.
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, self._proc.pid, DRIVER_NICENESS)
        self._conn = Connection(mine.detach())
        self._conn.send(self.config)

    def call(self, call: DriverCall[R]) -> R:
        """Run `call` in the driver; its error is raised here."""
        with self._lock:
            conn = self._conn
            if conn is None:
                raise DriverGone("the Ray driver is not running")
            try:
                conn.send(call)
                reply = conn.recv()
            except (EOFError, OSError):
                raise DriverGone(
                    f"the Ray driver process ended (its log: {paths.state_dir() / DRIVER_LOG})"
                ) from None
        if isinstance(reply, Failure):
            raise reply.error
        # The driver ran `call.run`, whose answer is an R (driver_main.serve).
        return cast(R, reply.value)

    def kill(self) -> None:
        """End the driver by its PID at once (a driver whose head died cannot shut down);
        a request blocked on it gets DriverGone."""
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            threading.Thread(target=proc.wait, name="ray-driver-reap", daemon=True).start()
        if conn is not None:
            with contextlib.suppress(OSError), socket.socket(fileno=os.dup(conn.fileno())) as s:
                # shutdown wakes a thread blocked in recv on this socket; close alone may not.
                s.shutdown(socket.SHUT_RDWR)
            conn.close()
