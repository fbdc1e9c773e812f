"""ClusterOps: install, start, stop and inspect a Ray cluster through the nodes' transports."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from gridtui.config import ClusterConfig, NodeConfig
from gridtui.errors import UsageError
from gridtui.services.cluster import node_commands as commands
from gridtui.services.cluster.advice import about, advised
from gridtui.services.cluster.node_token import auth_clashes, local_token, rotate, send_tokens
from gridtui.services.cluster.procs import (
    NodeScriptError,
    RayProcess,
    StopResult,
    list_processes,
    log_tail,
    run_script,
    stop_node,
)
from gridtui.services.cluster.reports import (
    ClusterError,
    NodeProgress,
    NodeVersion,
    Progress,
    StartReport,
    describe_failures,
    log_lines,
)
from gridtui.services.cluster.status import ClusterStatus, collect_status
from gridtui.services.cluster.versions import Versions, console_versions, target_versions
from gridtui.services.ray.view import match_nodes
from gridtui.transport.base import NodeTransport, TransportError
from gridtui.transport.factory import make_transports

# The lifecycle's reports and version checks live in their own modules; callers import
# them from here, beside the service that produces them.
__all__ = [
    "STATUS_DEADLINE",
    "ClusterError",
    "ClusterOps",
    "NodeProgress",
    "NodeVersion",
    "Progress",
    "StartReport",
    "console_versions",
    "describe_failures",
    "target_versions",
]

T = TypeVar("T")

# `cluster status` answers within this many seconds (--timeout); nodes still silent then
# are reported as timed out. Two connect attempts' TCP connects at the default
# connect_timeout fit, and a healthy cluster answers in well under a second.
STATUS_DEADLINE = 20.0


class ClusterOps:
    """The lifecycle service the CLI and the console share; every step reports progress."""

    def __init__(
        self,
        config: ClusterConfig,
        transports: Mapping[str, NodeTransport] | None = None,
        *,
        progress: Progress | None = None,
        start_timeout: float = 60.0,
        join_timeout: float = 30.0,
        lean: bool = False,
    ) -> None:
        self.config = config
        self._own = transports is None
        if transports is None:
            transports = make_transports(config)
        self.transports = dict(transports)
        self.progress = progress or (lambda _event: None)
        self.start_timeout = start_timeout
        self.join_timeout = join_timeout
        self.lean = lean
        self.versions = Versions(config, self.transports, self._say)

    async def __aenter__(self) -> ClusterOps:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own:
            for transport in self.transports.values():
                await transport.close()

    def _say(self, node: str, step: str, state: str, message: str = "") -> None:
        self.progress(NodeProgress(node, step, state, message))

    def _nodes(self, name: str | None) -> list[NodeConfig]:
        if name is None:
            return list(self.config.nodes)
        try:
            return [self.config.node(name)]
        except Exception:
            known = ", ".join(n.name for n in self.config.nodes)
            raise UsageError(f"unknown node {name!r} (known: {known})") from None

    async def _each(
        self, nodes: Sequence[NodeConfig], fn: Callable[[NodeConfig], Awaitable[T]]
    ) -> list[T]:
        return list(await asyncio.gather(*(fn(n) for n in nodes)))

    # -- versions and install: services/cluster/versions.py ------------------------------

    def expected(self) -> tuple[str, str]:
        return self.versions.expected()

    async def node_version(self, node: NodeConfig) -> NodeVersion:
        return await self.versions.node_version(node)

    async def check_versions(self, nodes: Sequence[NodeConfig] | None = None) -> list[NodeVersion]:
        """Ask every node at once; raise one error naming each node that cannot join."""
        return await self.versions.check(nodes)

    async def install(self, pip_timeout: float = 1800.0) -> list[NodeVersion]:
        """Create or reuse each node's env with the console's Ray; verify every node after."""
        return await self.versions.install(pip_timeout)

    # -- start -------------------------------------------------------------------------

    async def _processes(self, node: NodeConfig) -> list[RayProcess] | str:
        """The Ray processes the node runs for us, or why it cannot be asked."""
        try:
            return await list_processes(self.transports[node.name], node, self.config)
        except TransportError as exc:
            return advised(about(node.name, exc.message), exc.reason)
        except NodeScriptError as exc:
            return advised(about(node.name, exc.summary), exc.cause)

    async def ray_view(self, *, wait: float = 0.0, expect: int = 0) -> list[dict[str, Any]]:
        """Ray's node table read on the head by its own python (no Ray in this process)."""
        argv = commands.view_argv(self.config, wait=wait, expect=expect)
        head = self.transports[self.config.head.name]
        data = await run_script(head, argv, timeout=wait + 30)
        if "error" in data:
            raise ClusterError(f"Ray on {self.config.head.name}: {data['error']}")
        return list(data.get("nodes", []))

    async def _probe_gcs(self, wait: float) -> None:
        """The GCS port accepts connections (a TCP probe on the head: no Ray import there)."""
        head = self.transports[self.config.head.name]
        data = await run_script(head, commands.probe_argv(self.config, wait), timeout=wait + 20)
        if "error" in data:
            raise ClusterError(str(data["error"]))

    async def _start_one(self, node: NodeConfig, *, head: bool, timeout: float) -> str:
        """Run `ray start` on a node; '' on success, else why it failed."""
        self._say(node.name, "start", "running", "ray start" + (" --head" if head else ""))
        argv = commands.start_argv(node, self.config, head=head, lean=self.lean)
        try:
            data = await run_script(self.transports[node.name], argv, timeout=timeout)
        except (TransportError, NodeScriptError) as exc:
            return str(exc)
        if data.get("exit") != 0:
            lines = [ln for ln in str(data.get("output", "")).splitlines() if ln.strip()]
            return f"ray start exited {data.get('exit')}: " + (lines[-1] if lines else "")
        return ""

    async def _fail_head(self, head: NodeConfig, summary: str, why: str) -> None:
        self._say(head.name, "start", "failed", why)
        logs = await self._safe_logs(head)
        await stop_node(self.transports[head.name], head, self.config, grace=2.0)
        raise ClusterError(summary, [about(head.name, why), *log_lines(head.name, logs)])

    async def _safe_logs(self, node: NodeConfig) -> dict[str, list[str]]:
        try:
            return await log_tail(self.transports[node.name], node, self.config)
        except (TransportError, NodeScriptError) as exc:
            return {"(logs)": [str(exc)]}

    async def start(self, *, check: bool = True) -> StartReport:
        """Head first, then every worker at once; then confirm each in Ray's node table."""
        problems = [p for n in self.config.nodes for p in commands.check_node(n, self.config)]
        if problems:
            raise ClusterError("the cluster file cannot start Ray (nothing was started)", problems)
        # Both only read, so they run together; a mismatch still stops everything before
        # any `ray start`.
        checked = self.check_versions() if check else asyncio.sleep(0)
        _, running = await asyncio.gather(checked, self._each(self.config.nodes, self._processes))
        report = StartReport()
        unreachable = [r for r in running if isinstance(r, str)]
        if unreachable:
            raise ClusterError("some nodes cannot be reached (nothing was started)", unreachable)
        head = self.config.head
        workers = [n for n in self.config.nodes if n is not head]
        procs = {
            n.name: p
            for n, p in zip(self.config.nodes, running, strict=True)
            if isinstance(p, list)
        }
        clashes = auth_clashes(self.config, procs)
        if clashes:
            raise ClusterError(
                "Ray's auth differs from the cluster file (nothing was started)", clashes
            )
        counts = {name: len(p) for name, p in procs.items()}
        token = local_token(self.config, [name for name, n in counts.items() if n])
        sent = await send_tokens(self.config, self.transports, token, self._say)
        if sent.get(head.name):  # nothing was started, and a running head is left alone
            raise ClusterError(
                "the Ray token did not reach the head (nothing was started)",
                [about(head.name, sent[head.name])],
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.start_timeout
        if counts[head.name]:
            report.already_running.append(head.name)
            self._say(head.name, "start", "skipped", "already running")
        else:
            why = await self._start_one(head, head=True, timeout=self.start_timeout)
            if why:
                await self._fail_head(head, "the head did not start (nothing is left running)", why)
        try:
            await self._probe_gcs(max(1.0, deadline - loop.time()))
        except (ClusterError, TransportError, NodeScriptError) as exc:
            if head.name in report.already_running:
                raise ClusterError(
                    f"{head.name} runs Ray processes but its GCS does not answer: "
                    f"{exc}; stop it first"
                ) from None
            await self._fail_head(
                head,
                f"the head's GCS did not answer within {self.start_timeout:g}s "
                "(nothing is left running)",
                str(exc).splitlines()[0],
            )
        if head.name not in report.already_running:
            report.started.append(head.name)
            self._say(head.name, "start", "ok", f"GCS at {commands.gcs_address(self.config)}")

        async def worker(node: NodeConfig) -> None:
            if sent.get(node.name):
                report.failed[node.name] = f"the Ray token did not reach it: {sent[node.name]}"
                self._say(node.name, "start", "failed", report.failed[node.name])
                return
            if counts[node.name]:
                report.already_running.append(node.name)
                self._say(node.name, "start", "skipped", "already running")
                return
            why = await self._start_one(node, head=False, timeout=self.start_timeout)
            if why:
                report.failed[node.name] = why
                self._say(node.name, "start", "failed", why)
            else:
                report.started.append(node.name)

        await self._each(workers, worker)
        await self._verify(report)
        return report

    async def rotate_token(self, *, check: bool = True) -> StartReport:
        """A new token, and Ray restarted on every node with it (node_auth.rotate)."""
        return await rotate(self, check=check)

    async def _verify(self, report: StartReport) -> None:
        """Wait for every started node in Ray's node table; attach log tails for the missing."""
        names = [n.name for n in self.config.nodes if n.name not in report.failed]
        for name in names:
            self._say(name, "join", "running")
        try:
            view = await self.ray_view(wait=self.join_timeout, expect=len(names))
        except (ClusterError, TransportError, NodeScriptError) as exc:
            view = []
            for name in names:
                report.failed.setdefault(name, f"could not read Ray's node table: {exc}")
        matched = match_nodes(self.config, view)
        for name in names:
            entry = matched.get(name)
            if entry is not None and entry.get("alive"):
                self._say(name, "join", "ok", f"node {str(entry.get('node_id', ''))[:8]}")
            else:
                report.failed.setdefault(name, "did not join the cluster")
        for name in report.failed:
            self._say(name, "join", "failed", report.failed[name])
            report.logs[name] = await self._safe_logs(self.config.node(name))

    # -- stop, status, logs ------------------------------------------------------------

    async def stop(self, node: str | None = None, *, grace: float = 5.0) -> list[StopResult]:
        """Stop one node, or workers then head, by PID: only processes under its temp dir."""
        nodes = self._nodes(node)
        head = self.config.head

        async def one(n: NodeConfig) -> StopResult:
            self._say(n.name, "stop", "running")
            result = await stop_node(self.transports[n.name], n, self.config, grace)
            state = "ok" if result.ok else "failed"
            detail = result.error or f"{result.terminated} stopped, {result.killed} killed"
            self._say(n.name, "stop", state, detail)
            return result

        results = await self._each([n for n in nodes if n is not head], one)
        if head in nodes:
            results.append(await one(head))
        return results

    async def status(self, deadline: float = STATUS_DEADLINE) -> ClusterStatus:
        """SSH reachability, our Ray processes and Ray's own view, one row per node, within
        `deadline` seconds in all: a node still silent then is reported as timed out."""

        async def procs(n: NodeConfig) -> Any:
            try:
                return await list_processes(self.transports[n.name], n, self.config, timeout=15)
            except (TransportError, NodeScriptError) as exc:
                return exc

        return await collect_status(self.config, procs, self._safe_view(), deadline)

    async def _safe_view(self) -> list[dict[str, Any]] | str:
        try:
            return await self.ray_view()
        except (ClusterError, TransportError, NodeScriptError) as exc:
            return str(exc)

    async def logs(self, node: str, lines: int = 200) -> dict[str, list[str]]:
        """The tail of a node's Ray logs (raylet, GCS on the head, gridtui's start log)."""
        (n,) = self._nodes(node)
        return await log_tail(self.transports[n.name], n, self.config, lines)
