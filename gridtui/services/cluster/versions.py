"""The nodes' Python and Ray against the console's: checked before a start, installed on ask."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping, Sequence
from importlib import metadata
from typing import Protocol

from gridtui.config import ClusterConfig, NodeConfig
from gridtui.services.cluster import node_commands as commands
from gridtui.services.cluster.advice import INSTALLABLE, about, advised
from gridtui.services.cluster.procs import NodeScriptError, NoPython, run_script
from gridtui.services.cluster.reports import ClusterError, NodeVersion
from gridtui.transport.base import NodeTransport, TransportError


class Say(Protocol):
    """ClusterOps' progress: one step of one node."""

    def __call__(self, node: str, step: str, state: str, message: str = "") -> None: ...


def console_versions() -> tuple[str, str]:
    """(python minor, Ray version) of this process, read without importing ray."""
    return "{}.{}".format(*sys.version_info[:2]), metadata.version("ray")


def target_versions(config: ClusterConfig) -> tuple[str, str]:
    """(python minor, Ray version) every node must have: the console's, or the file's Ray."""
    minor, ray = console_versions()
    return minor, config.ray.version or ray


class Versions:
    """Asks each node's interpreter for its versions; installs Ray where pip can help."""

    def __init__(
        self, config: ClusterConfig, transports: Mapping[str, NodeTransport], say: Say
    ) -> None:
        self.config = config
        self.transports = transports
        self._say = say

    def expected(self) -> tuple[str, str]:
        return target_versions(self.config)

    async def node_version(self, node: NodeConfig) -> NodeVersion:
        minor, ray = self.expected()
        self._say(node.name, "check", "running")
        transport = self.transports[node.name]
        python = commands.ray_python(node, self.config)
        try:
            data = await run_script(transport, commands.version_argv(node, self.config), timeout=30)
        except TransportError as exc:
            return self._unready(node, exc.reason, exc.message)
        except NoPython:
            # No `python:` in the file means the env `cluster install` creates.
            cause = "no-python" if "python" in node.model_fields_set else "venv-missing"
            return self._unready(node, cause, f"no Python at {python}")
        except NodeScriptError as exc:
            return self._unready(node, exc.cause, exc.summary)
        got = NodeVersion(node.name, data["python"], data.get("ray"), data.get("executable", ""))
        problems = []
        if data.get("minor") != minor:
            problems.append(f"Python {data['python']} (console: {minor})")
        if got.ray != ray:
            problems.append(f"Ray {got.ray or 'not installed'} (console: {ray})")
        if problems:
            if data.get("minor") != minor:  # pip cannot change an interpreter's version
                cause, tip = "python-version", f"point the node's `python:` at a Python {minor}"
            else:
                cause, tip = ("ray-missing" if got.ray is None else "ray-version"), ""
            text = advised(f"{' and '.join(problems)} at {got.executable}", cause)
            text = f"{text}; {tip}" if tip else text
            self._say(node.name, "check", "failed", text)
            return NodeVersion(
                node.name, got.python, got.ray, got.executable, about(node.name, text), cause
            )
        self._say(node.name, "check", "ok", f"Python {got.python}, Ray {got.ray}")
        return got

    def _unready(self, node: NodeConfig, cause: str, text: str) -> NodeVersion:
        text = advised(about(node.name, text), cause)
        self._say(node.name, "check", "failed", text)
        return NodeVersion(node.name, problem=text, cause=cause)

    async def check(self, nodes: Sequence[NodeConfig] | None = None) -> list[NodeVersion]:
        """Ask every node at once; raise one error naming each node that cannot join, each
        with the advice for its own cause (install only where install can help)."""
        wanted = list(nodes or self.config.nodes)
        found = list(await asyncio.gather(*(self.node_version(n) for n in wanted)))
        bad = [v.problem for v in found if v.problem]
        if bad:
            raise ClusterError(
                f"{len(bad)} of {len(found)} nodes cannot join (nothing was started)", bad
            )
        return found

    async def install(self, pip_timeout: float = 1800.0) -> list[NodeVersion]:
        """Create or reuse each node's env with the console's Ray; verify every node after."""
        _, ray = self.expected()

        async def one(node: NodeConfig) -> NodeVersion:
            have = await self.node_version(node)
            if not have.problem:
                self._say(node.name, "install", "skipped", "already matches")
                return have
            if have.cause not in INSTALLABLE and have.cause != "script":
                return have  # unreachable, or a Python that pip cannot change
            explicit = "python" in node.model_fields_set
            argv = (
                commands.pip_argv(node, self.config, ray)
                if explicit and have.python
                else commands.venv_argv(node, self.config, ray)
            )
            self._say(node.name, "install", "running", f"installing Ray {ray}")
            try:
                await run_script(self.transports[node.name], argv, timeout=pip_timeout)
            except (TransportError, NodeScriptError) as exc:
                self._say(node.name, "install", "failed", str(exc))
                return NodeVersion(node.name, problem=str(exc))
            self._say(node.name, "install", "ok")
            return await self.node_version(node)

        found = list(await asyncio.gather(*(one(n) for n in self.config.nodes)))
        bad = [v.problem for v in found if v.problem]
        if bad:
            raise ClusterError(f"{len(bad)} of {len(found)} nodes are not ready", bad)
        return found
