"""The argv lists gridtui runs on nodes: `ray start` flags, the node script, paths per node."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import PurePosixPath

from gridtui.agent import script_source
from gridtui.config import ClusterConfig, NodeConfig
from gridtui.model.ray import LABEL_KEY
from gridtui.transport.base import remote_path

# Ray's sockets live under TEMP/session_<date>_<pid>/sockets/; a Unix socket path must stay
# under 108 bytes, so the temp dir itself gets about 45.
MAX_TEMP_DIR = 45
DEFAULT_TEMP_ROOT = "/tmp/gridtui"
# The cluster's Ray token on each node (mode 600) is TEMP_DIR + this, beside the temp dir
# rather than in it: node script commands name it in their argv, and a path inside the
# temp dir would make them look like the node's Ray processes to `procs` and `stop`.
NODE_TOKEN_SUFFIX = ".ray-token"
# Ray's dashboard (and its job server) listens on the head's loopback only: gridtui reaches
# it through its SSH connection (NodeTransport.forward), never over the network.
DASHBOARD_HOST = "127.0.0.1"
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$")


@cache
def node_script() -> str:
    """The node helper's text, sent on stdin so nodes need nothing of gridtui installed."""
    return script_source("nodescript.py")


def ray_python(node: NodeConfig, config: ClusterConfig) -> str:
    """The interpreter that runs Ray on a node: the node's own `python` when the file sets
    it, else the python of the env `ray.venv` that `cluster install` creates."""
    if "python" in node.model_fields_set:
        return remote_path(node, node.python)
    venv = config.ray.venv.rstrip("/")
    return remote_path(node, f"{venv}/bin/python")


def script_argv(node: NodeConfig, config: ClusterConfig, *args: str) -> list[str]:
    """`python - CMD ARGS...`: run the node script (sent on stdin) with the node's python."""
    return [ray_python(node, config), "-", *args]


def base_python(node: NodeConfig) -> str:
    """The interpreter that can create an env on the node (before Ray exists there)."""
    return remote_path(node, node.python)


def temp_dir(node: NodeConfig, config: ClusterConfig) -> str:
    """One Ray temp dir per node: what tells this node's processes from every other's."""
    root = config.ray.temp_dir or f"{DEFAULT_TEMP_ROOT}/{_slug(config.name)}"
    return str(PurePosixPath(remote_path(node, root)) / node.name)


def node_token_path(node: NodeConfig, config: ClusterConfig) -> str:
    """Where the cluster's token lives on a node: beside the node's Ray temp dir."""
    return temp_dir(node, config) + NODE_TOKEN_SUFFIX


def auth_args(node: NodeConfig, config: ClusterConfig) -> list[str]:
    """The node script's auth options: a mode always, and the token's path (never the
    token) when the mode is token."""
    if config.ray.auth != "token":
        return ["--auth-mode", "disabled"]
    return ["--auth-mode", "token", "--auth-token-file", node_token_path(node, config)]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text)[:20] or "cluster"


def gcs_address(config: ClusterConfig) -> str:
    return f"{config.head.host}:{config.ray.port}"


def agent_port(node: NodeConfig, config: ClusterConfig) -> int:
    """The node's dashboard agent's HTTP port, which serves its jobs' logs. It binds every
    address, so nodes sharing this machine (the demo's) each take the next port: on one
    port the losers serve no logs (and 0 does not work: Ray's job supervisor records the
    port as configured, not as bound)."""
    base = config.ray.dashboard_agent_port
    if node.transport == "local" or node.host.startswith("127."):
        return base + [n.name for n in config.nodes].index(node.name)
    return base


def check_node(node: NodeConfig, config: ClusterConfig) -> list[str]:
    """Problems that would make `ray start` fail for this node, found before starting."""
    problems = []
    if not _LABEL_VALUE.match(node.name):
        problems.append(f"{node.name}: a Ray label value must end with a letter or digit")
    if node.host in ("127.0.0.1", "localhost"):
        problems.append(
            f"{node.name}: host {node.host} makes Ray rewrite the address; use 127.0.0.2 and up"
        )
    tmp = temp_dir(node, config)
    if len(tmp) > MAX_TEMP_DIR:
        problems.append(
            f"{node.name}: temp dir {tmp} is too long for Ray's sockets (max {MAX_TEMP_DIR}); "
            "set ray.temp_dir to a shorter path"
        )
    return problems


def ray_start_args(
    node: NodeConfig,
    config: ClusterConfig,
    *,
    head: bool,
    lean: bool = False,
) -> list[str]:
    """The `ray start` flags for one node. `lean` drops the log monitor: unneeded for a
    co-located cluster whose driver does not print worker logs. The autoscaler monitor
    stays: `ray status` (Ray's own tool, which users try first) reads what it publishes, and
    prints only "No cluster status" without it (docs/operations.md has what it costs)."""
    res = node.resources
    args: list[str] = []
    if head:
        args += ["--head", f"--port={config.ray.port}"]
        # Ray runs its client server whenever its client deps import, on 10001 unless told:
        # a port of the cluster's own, so two clusters on one machine do not share it.
        args.append(f"--ray-client-server-port={config.ray.client_server_port}")
        args.append(f"--include-dashboard={'true' if config.ray.include_dashboard else 'false'}")
        args.append(f"--dashboard-host={DASHBOARD_HOST}")
        if config.ray.include_dashboard:
            # A fixed port, not Ray's search from 8265: gridtui's job client must know it.
            args.append(f"--dashboard-port={config.ray.dashboard_port}")
    else:
        args.append(f"--address={gcs_address(config)}")
    args.append(f"--node-ip-address={node.host}")
    if config.ray.include_dashboard:
        args.append(f"--dashboard-agent-listen-port={agent_port(node, config)}")
    if res.cpu is not None:
        args.append(f"--num-cpus={round(res.cpu)}")
    if res.gpu is not None:
        args.append(f"--num-gpus={res.gpu}")
    if res.memory is not None:
        args.append(f"--memory={res.memory}")
    store = res.object_store_memory or config.ray.object_store_memory
    if store is not None:
        args.append(f"--object-store-memory={store}")
    if res.custom:
        args.append(f"--resources={json.dumps(res.custom, sort_keys=True)}")
    args.append(f"--labels={LABEL_KEY}={node.name}")
    args.append(f"--temp-dir={temp_dir(node, config)}")
    if lean:
        args.append("--include-log-monitor=false")
    args.append("--disable-usage-stats")
    return args


def start_argv(
    node: NodeConfig, config: ClusterConfig, *, head: bool, lean: bool = False
) -> list[str]:
    """The node script's `start`: `ray start` in its own session, output kept in a file."""
    tmp = temp_dir(node, config)
    return script_argv(
        node,
        config,
        "start",
        "--temp-dir",
        tmp,
        *auth_args(node, config),
        "--",
        *ray_start_args(node, config, head=head, lean=lean),
    )


def manual_start_argv(node: NodeConfig, config: ClusterConfig, *, head: bool) -> list[str]:
    """The plain `ray start` a person would type (the bench's baseline)."""
    return [
        ray_python(node, config),
        "-m",
        "ray.scripts.scripts",
        "start",
        *ray_start_args(node, config, head=head),
    ]


def _owned(node: NodeConfig, config: ClusterConfig) -> list[str]:
    """What names a node's processes for `procs` and `stop`: its temp dir, and on the head
    the GCS address, which Ray's client server names instead of the temp dir."""
    words = ["--marker", temp_dir(node, config)]
    if node.name == config.head.name:
        words += ["--client-of", gcs_address(config)]
    return words


def stop_argv(node: NodeConfig, config: ClusterConfig, grace: float = 5.0) -> list[str]:
    return script_argv(node, config, "stop", *_owned(node, config), "--grace", f"{grace:g}")


def procs_argv(node: NodeConfig, config: ClusterConfig) -> list[str]:
    return script_argv(node, config, "procs", *_owned(node, config))


def view_argv(config: ClusterConfig, *, wait: float = 0.0, expect: int = 0) -> list[str]:
    head = config.head
    argv = script_argv(head, config, "view", "--address", gcs_address(config))
    argv += ["--wait", f"{wait:g}", "--expect", str(expect), *auth_args(head, config)]
    return argv


def probe_argv(config: ClusterConfig, wait: float) -> list[str]:
    argv = script_argv(config.head, config, "probe", "--address", gcs_address(config))
    return [*argv, "--wait", f"{wait:g}"]


def logs_argv(node: NodeConfig, config: ClusterConfig, lines: int = 20) -> list[str]:
    return script_argv(
        node, config, "logs", "--temp-dir", temp_dir(node, config), "--lines", str(lines)
    )


def version_argv(node: NodeConfig, config: ClusterConfig) -> list[str]:
    return script_argv(node, config, "version")


def venv_argv(node: NodeConfig, config: ClusterConfig, ray_version: str) -> list[str]:
    venv = remote_path(node, config.ray.venv)
    return [base_python(node), "-", "venv", "--path", venv, "--ray-version", ray_version]


def pip_argv(node: NodeConfig, config: ClusterConfig, ray_version: str) -> list[str]:
    return script_argv(node, config, "pip", "--ray-version", ray_version)
