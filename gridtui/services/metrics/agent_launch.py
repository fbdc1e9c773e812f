"""How the sampling agent is launched on a node through its transport."""

from __future__ import annotations

import posixpath

from gridtui.agent import script_source
from gridtui.config import ClusterConfig, NodeConfig
from gridtui.services.cluster.node_commands import temp_dir
from gridtui.transport.base import remote_path


def agent_source() -> str:
    """The agent's own text: sent on the stream's stdin, so nodes need nothing installed."""
    return script_source("sampler.py")


def agent_argv(node: NodeConfig, interval: float, config: ClusterConfig | None = None) -> list[str]:
    """The command that runs the agent from stdin with the node's own interpreter. A
    `ray-processes` node is measured by its own Ray temp dir (which every process of that
    Ray node names, and no other's): `config` says where it is."""
    argv = [remote_path(node, node.python), "-u", "-", "--interval", f"{interval:g}"]
    if node.sample_scope == "ray-processes":
        if config is None:
            raise ValueError(f"{node.name}: a ray-processes scope needs its cluster's config")
        res = node.resources
        root, name = posixpath.split(temp_dir(node, config))
        argv += ["--scope", "ray-processes", "--node-root", root, "--node-name", name]
        argv += ["--cpus", f"{res.cpu or 1:g}", "--memory", str(res.memory or 0)]
    return argv
