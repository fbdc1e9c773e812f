"""The argv of an interactive shell on a node: ssh(1) with the cluster file's options."""

from __future__ import annotations

import os
import shutil

from gridtui.config import ClusterConfig, NodeConfig
from gridtui.errors import UserError


class NoShell(UserError):
    """No program to open the shell with (ssh is not installed)."""


def shell_argv(node: NodeConfig, config: ClusterConfig) -> list[str]:
    """An argv list, never a shell string: the host and paths reach ssh as single arguments.

    Local nodes get the user's own $SHELL; SSH nodes get the same user, port, identity and
    host-key policy that gridtui's own connections use."""
    if node.transport == "local":
        shell = os.environ.get("SHELL") or "/bin/sh"
        if shutil.which(shell) is None:
            raise NoShell(f"no shell at {shell} for {node.name}")
        return [shell]
    ssh = shutil.which("ssh")
    if ssh is None:
        raise NoShell(f"ssh is not installed: cannot open a shell on {node.name}")
    argv = [ssh, "-t"]
    if not config.ssh.use_ssh_config:
        argv += ["-F", "none"]
    if node.port is not None:
        argv += ["-p", str(node.port)]
    if node.user:
        argv += ["-l", node.user]
    if node.identity is not None:
        argv += ["-i", str(node.identity), "-o", "IdentitiesOnly=yes"]
    if config.ssh.known_hosts is not None:
        argv += ["-o", f"UserKnownHostsFile={config.ssh.known_hosts}"]
    policy = "accept-new" if config.ssh.host_key_policy == "accept-new" else "yes"
    argv += ["-o", f"StrictHostKeyChecking={policy}"]
    argv += ["-o", f"ConnectTimeout={max(1, round(config.ssh.connect_timeout))}"]
    return [*argv, "--", node.host]
