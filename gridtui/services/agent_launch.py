"""How the sampling agent is launched on a node through its transport."""

from __future__ import annotations

from gridtui.agent import script_source
from gridtui.config import NodeConfig
from gridtui.transport.base import remote_path


def agent_source() -> str:
    """The agent's own text: sent on the stream's stdin, so nodes need nothing installed."""
    return script_source("sampler.py")


def agent_argv(node: NodeConfig, interval: float) -> list[str]:
    """The command that runs the agent from stdin with the node's own interpreter."""
    argv = [remote_path(node, node.python), "-u", "-", "--interval", f"{interval:g}"]
    if node.sample_scope == "ray-processes":
        res = node.resources
        argv += ["--scope", "ray-processes", "--address", node.host]
        argv += ["--cpus", f"{res.cpu or 1:g}", "--memory", str(res.memory or 0)]
    return argv
