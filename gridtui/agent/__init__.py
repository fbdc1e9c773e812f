"""The sampling agent shipped to nodes, and how to launch it through a transport."""

from __future__ import annotations

from functools import cache
from importlib import resources

from gridtui.config import NodeConfig
from gridtui.transport.base import remote_path


@cache
def agent_source() -> str:
    """The agent's own text: sent on the stream's stdin, so nodes need nothing installed."""
    return resources.files("gridtui.agent").joinpath("sampler.py").read_text(encoding="utf-8")


def agent_argv(node: NodeConfig, interval: float) -> list[str]:
    """The command that runs the agent from stdin with the node's own interpreter."""
    argv = [remote_path(node, node.python), "-u", "-", "--interval", f"{interval:g}"]
    if node.sample_scope == "ray-processes":
        res = node.resources
        argv += ["--scope", "ray-processes", "--address", node.host]
        argv += ["--cpus", f"{res.cpu or 1:g}", "--memory", str(res.memory or 0)]
    return argv
