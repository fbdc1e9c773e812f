"""The console's cluster operations: said before they run, one ClusterOps call, one line after."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import threading
from collections.abc import Callable, Sequence
from typing import IO

from gridtui.config import ClusterConfig
from gridtui.errors import GridError
from gridtui.model.operations import Operation, Outcome, Plan, ShellExit
from gridtui.services.cluster import node_commands as commands
from gridtui.services.cluster.lifecycle import (
    ClusterOps,
    Progress,
    StartReport,
    describe_failures,
    target_versions,
)
from gridtui.services.cluster.shell import shell_argv

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
LOG_LINES = 300

OpsFactory = Callable[[Progress | None], ClusterOps]


class ClusterControl:
    """What the console may do to the cluster, with no Textual in sight: the console shows
    `plan`, runs `run` in a worker, and reads logs and shells through here."""

    def __init__(self, config: ClusterConfig, ops: OpsFactory, changed: Callable[[], None]) -> None:
        self.config = config
        self._ops = ops
        self._changed = changed

    def plan(self, op: Operation) -> Plan:
        """What will happen, line by line, and the nodes touched: said before it runs."""
        config = self.config
        nodes = [op.node] if op.node else [n.name for n in config.nodes]
        head = config.head.name
        if op.kind == "start":
            title = f"Start Ray on {config.name}?"
            auth = (
                "copy the cluster's Ray token to each node (mode 600);"
                if config.ray.auth == "token"
                else "no Ray token: ray.auth is disabled in the cluster file;"
            )
            lines = [
                f"Check Python and Ray versions on {', '.join(nodes)};",
                auth,
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
        verb, doing = VERBS[op.kind]
        return Plan(
            operation=op,
            title=title,
            lines=tuple(lines),
            nodes=tuple(nodes),
            verb=verb,
            label=f"{doing} Ray on {op.node or 'every node'}",
            steps=STEPS[op.kind],
            timeout=TIMEOUTS[op.kind],
        )

    async def run(self, op: Operation, progress: Progress | None = None) -> Outcome:
        """One ClusterOps call within the plan's time limit. A refusal or an OS failure is an
        Outcome; anything else is a bug and propagates. Ray's view is re-read either way."""
        plan = self.plan(op)
        try:
            async with self._ops(progress) as ops:
                return await asyncio.wait_for(self._call(ops, op), plan.timeout)
        except asyncio.TimeoutError:
            return Outcome(False, f"{plan.label}: no answer within {plan.timeout:g}s")
        except GridError as exc:
            return Outcome(False, exc.summary.splitlines()[0])
        except OSError as exc:
            return Outcome(False, f"{plan.label}: {exc.strerror or exc}")
        finally:
            self._changed()

    async def _call(self, ops: ClusterOps, op: Operation) -> Outcome:
        if op.kind == "start":
            return _started(await ops.start())
        if op.kind == "stop":
            results = await ops.stop(op.node)
            bad = [
                f"{r.node}: {r.error or f'{r.left} processes left'}" for r in results if not r.ok
            ]
            if bad:
                return Outcome(False, "; ".join(bad))
            count = sum(r.terminated + r.killed for r in results)
            return Outcome(True, f"Stopped Ray on {op.node or 'every node'} ({count} processes)")
        versions = await ops.install()
        ray = versions[0].ray if versions else "?"
        return Outcome(True, f"Ray {ray} ready on {len(versions)} nodes")

    async def logs(self, node: str, lines: int = LOG_LINES) -> dict[str, list[str]]:
        """The tail of a node's Ray logs, file by file."""
        async with self._ops(None) as ops:
            return await ops.logs(node, lines)

    def shell_argv(self, node: str) -> list[str]:
        """The argv of an interactive shell on the node; a GridError says why there is none."""
        return shell_argv(self.config.node(node), self.config)

    def run_shell(self, node: str, argv: Sequence[str]) -> ShellExit:
        """Blocking: the terminal belongs to the shell until it exits. For ssh, its own
        error lines are kept as well as shown, so a failure can be told in its words (a
        local shell keeps its stderr: an interactive shell needs it to be the terminal)."""
        capture = self.config.node(node).transport != "local"
        return run_interactive(argv, capture_stderr=capture)


def run_interactive(argv: Sequence[str], *, capture_stderr: bool) -> ShellExit:
    """Run argv on this terminal; with `capture_stderr`, its stderr is copied to the
    terminal as it comes and its last line kept."""
    if not capture_stderr:
        return ShellExit(subprocess.call(list(argv)))
    proc = subprocess.Popen(list(argv), stderr=subprocess.PIPE)
    assert proc.stderr is not None
    kept: list[str] = []
    copier = threading.Thread(target=_copy_stderr, args=(proc.stderr, kept), daemon=True)
    copier.start()
    code = proc.wait()
    # A process ssh left behind (a control master) may hold the pipe: never wait on it long.
    copier.join(timeout=1.0)
    return ShellExit(code, kept[-1] if kept else "")


def _copy_stderr(stream: IO[bytes], kept: list[str]) -> None:
    for raw in iter(stream.readline, b""):
        with contextlib.suppress(OSError):
            os.write(2, raw)
        line = raw.decode(errors="replace").strip()
        if line and not line.startswith("Connection to "):  # "... closed.": not an error
            kept.append(line)
            del kept[:-1]


def _started(report: StartReport) -> Outcome:
    if not report.ok:
        lines = describe_failures(report)
        return Outcome(
            False, f"{len(report.failed)} nodes did not join: " + (lines[0] if lines else "")
        )
    started = len(report.started)
    already = len(report.already_running)
    return Outcome(True, f"Ray is up: {started} started, {already} already running")
