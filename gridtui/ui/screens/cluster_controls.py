"""The main screen's cluster keys: intent -> confirmation -> one ClusterOps call -> result."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from textual import work
from textual.app import SuspendNotSupported
from textual.message import Message
from textual.worker import WorkerState

from gridtui.errors import UserError, one_line
from gridtui.services import ray_commands as commands
from gridtui.services.lifecycle import (
    ClusterOps,
    NodeProgress,
    StartReport,
    describe_failures,
    target_versions,
)
from gridtui.services.shell import shell_argv
from gridtui.ui.screens.cluster_progress import ClusterProgressScreen, ProgressEvent
from gridtui.ui.screens.confirm import ConfirmScreen
from gridtui.ui.widgets.nodes_table import NodesTable

if TYPE_CHECKING:
    from textual.screen import Screen

    from gridtui.backend import Backend

GROUP = "cluster"


@dataclass(frozen=True)
class Operation:
    """What will run: `kind` is start, stop or install; `node` None means every node."""

    kind: str
    node: str | None = None


# Per kind: the steps each node passes (for its bar), the overall time limit, the verbs.
STEPS = {
    "start": ("check", "start", "join"),
    "stop": ("stop",),
    "install": ("check", "install", "check"),
}
TIMEOUTS = {"start": 300.0, "stop": 90.0, "install": 2400.0}
VERBS = {
    "start": ("Start", "Starting"),
    "stop": ("Stop", "Stopping"),
    "install": ("Install", "Installing"),
}


class ClusterIntent(Message):
    """The user asked for a cluster operation; the screen confirms it before anything runs."""

    def __init__(self, operation: Operation) -> None:
        super().__init__()
        self.operation = operation


def _summary(exc: BaseException) -> str:
    """One line for a notification."""
    return one_line(exc)


class ClusterControls:
    """Mixed into MainScreen, whose BINDINGS name the actions that call these."""

    @property
    def _host(self) -> Screen[Any]:
        return cast("Screen[Any]", self)

    @property
    def backend(self) -> Backend:
        return cast("Backend", self._host.app.backend)  # type: ignore[attr-defined]

    @property
    def _node(self) -> str | None:
        return self._host.query_one(NodesTable).current_node

    def plan(self, op: Operation) -> tuple[str, list[str], list[str]]:
        """(title, what will happen line by line, the nodes touched), said before it runs."""
        config = self.backend.config
        nodes = [op.node] if op.node else [n.name for n in config.nodes]
        head = config.head.name
        if op.kind == "start":
            title = f"Start Ray on {config.name}?"
            lines = [
                f"Check Python and Ray versions on {', '.join(nodes)};",
                f"`ray start --head` on {head} (port {config.ray.port}) unless it runs,",
                "then every other node that does not run Ray yet, in parallel;",
                "then wait until each node shows in Ray's node table.",
            ]
        elif op.kind == "stop" and op.node:
            title = f"Stop Ray on {op.node}?"
            what = "the head: the whole cluster loses its GCS" if op.node == head else "a worker"
            temp = commands.temp_dir(config.node(op.node), config)
            lines = [
                f"Stop the Ray processes gridtui started on {op.node} ({what}),",
                f"by PID (processes under {temp}): SIGTERM, then SIGKILL.",
                "Other nodes and unrelated Ray sessions are left alone.",
            ]
        elif op.kind == "stop":
            title = f"Stop the whole Ray cluster {config.name}?"
            lines = [
                f"Stop the Ray processes gridtui started on {', '.join(nodes)}:",
                f"workers first, then the head {head}; by PID, SIGTERM then SIGKILL.",
                "Running Ray tasks and stored objects are lost.",
            ]
        else:
            _, ray = target_versions(config)
            title = f"Install Ray {ray} on {config.name}?"
            lines = [
                f"On {', '.join(nodes)}: check Python and Ray versions;",
                f"where they differ, create or reuse {config.ray.venv} and pip-install Ray {ray}.",
                "Nodes that already match are left as they are.",
            ]
        return title, lines, nodes

    def _busy(self) -> bool:
        return any(
            w.group == GROUP and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
            for w in self._host.app.workers
        )

    def request(self, kind: str, *, node: bool = False) -> None:
        name = self._node if node else None
        if node and name is None:
            self._host.notify("No node selected", severity="warning")
            return
        self._host.post_message(ClusterIntent(Operation(kind, name)))

    def on_cluster_intent(self, message: ClusterIntent) -> None:
        op = message.operation
        if self._busy():
            self._host.notify(
                "A cluster operation is still running; wait for it", severity="warning"
            )
            return
        title, lines, _ = self.plan(op)

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_operation(op)

        self._host.app.push_screen(ConfirmScreen(title, lines, VERBS[op.kind][0]), answered)

    @work(exclusive=True, group=GROUP, exit_on_error=False)
    async def run_operation(self, op: Operation) -> None:
        """One ClusterOps call; its progress feeds the bars, its end becomes a notification."""
        _, _, nodes = self.plan(op)
        label = f"{VERBS[op.kind][1]} Ray on {op.node or 'every node'}"
        progress = ClusterProgressScreen(label, nodes, STEPS[op.kind])
        await self._host.app.push_screen(progress)

        def report(event: NodeProgress) -> None:
            progress.post_message(ProgressEvent(event))

        try:
            async with self.backend.ops(report) as ops:
                ok, text = await asyncio.wait_for(self._call(ops, op), TIMEOUTS[op.kind])
        except asyncio.TimeoutError:
            ok, text = False, f"{label}: no answer within {TIMEOUTS[op.kind]:g}s"
        except (UserError, OSError) as exc:
            ok, text = False, _summary(exc)
        except Exception as exc:
            ok, text = False, f"{exc.__class__.__name__}: {_summary(exc)}"
        finally:
            self.backend.ray_changed()
        # Notify first: the user may have closed the progress view while the work went on.
        self._host.notify(
            text,
            title="Cluster" if ok else "Cluster operation failed",
            severity="information" if ok else "error",
        )
        if progress.is_attached:
            progress.finish(ok, text)

    async def _call(self, ops: ClusterOps, op: Operation) -> tuple[bool, str]:
        if op.kind == "start":
            return _started(await ops.start())
        if op.kind == "stop":
            results = await ops.stop(op.node)
            bad = [
                f"{r.node}: {r.error or f'{r.left} processes left'}" for r in results if not r.ok
            ]
            if bad:
                return False, "; ".join(bad)
            count = sum(r.terminated + r.killed for r in results)
            return True, f"Stopped Ray on {op.node or 'every node'} ({count} processes)"
        versions = await ops.install()
        ray = versions[0].ray if versions else "?"
        return True, f"Ray {ray} ready on {len(versions)} nodes"

    # -- logs and shell -------------------------------------------------------------------

    def open_logs(self) -> None:
        from gridtui.ui.screens.ray_logs import RayLogScreen

        node = self._node
        if node is None:
            return
        backend = self.backend

        async def fetch() -> dict[str, list[str]]:
            async with backend.ops() as ops:
                return await ops.logs(node, 300)

        self._host.app.push_screen(RayLogScreen(node, fetch))

    def open_shell(self) -> None:
        """Suspend the console, run the shell in this terminal, resume when it exits."""
        name = self._node
        if name is None:
            return
        config = self.backend.config
        try:
            argv = shell_argv(config.node(name), config)
        except UserError as exc:
            self._host.notify(str(exc), title="Shell", severity="error")
            return
        try:
            with self._host.app.suspend():
                # Blocking on purpose: the terminal belongs to the shell until it exits.
                code = subprocess.call(argv)
        except SuspendNotSupported:
            self._host.notify("This terminal cannot suspend the console", severity="error")
            return
        except OSError as exc:
            self._host.notify(f"cannot run {argv[0]}: {exc}", title="Shell", severity="error")
            return
        if code not in (0, 130):
            self._host.notify(
                f"{argv[0]} exited {code}", title=f"Shell on {name}", severity="warning"
            )


def _started(report: StartReport) -> tuple[bool, str]:
    if not report.ok:
        lines: Sequence[str] = describe_failures(report)
        return False, f"{len(report.failed)} nodes did not join: " + (lines[0] if lines else "")
    started = len(report.started)
    already = len(report.already_running)
    return True, f"Ray is up: {started} started, {already} already running"
