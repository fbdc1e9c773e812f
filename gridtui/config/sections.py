"""The cluster file's sections: the nodes, and the ssh, ray, ui and alerts settings."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from gridtui import configvalues as values
from gridtui.config.fields import (
    Flag,
    Memory,
    PathText,
    Port,
    RemotePath,
    StoreSize,
    Strict,
    Text,
    checked,
)
from gridtui.configvalues import (
    COMMAND_TIMEOUT,
    CONNECT_TIMEOUT,
    CONNECTS,
    CPUS,
    GPUS,
    PERCENT,
    STORE_SHARE,
    SUSTAIN,
)


class Resources(Strict):
    """What a node offers to Ray; the demo and `ray start` use these as the node's capacity."""

    cpu: Annotated[int, checked(CPUS.check)] | None = None
    gpu: Annotated[int, checked(GPUS.check)] | None = None
    memory: Memory | None = None
    object_store_memory: StoreSize | None = None
    custom: Annotated[dict[str, float], checked(values.custom)] = Field(default_factory=dict)


class NodeConfig(Strict):
    name: Annotated[str, checked(values.node_name)]
    host: Annotated[str, checked(values.host)]
    port: Port | None = None
    user: Text | None = None
    identity: PathText | None = None
    python: RemotePath = "python3"
    role: Literal["head", "worker"] = "worker"
    transport: Literal["ssh", "local"] = "ssh"
    # "ray-processes" samples only this Ray node's process tree against its declared
    # resources: the way co-located demo nodes each show their own load.
    sample_scope: Literal["host", "ray-processes"] = "host"
    resources: Resources = Field(default_factory=Resources)


class SshSettings(Strict):
    host_key_policy: Literal["strict", "accept-new"] = "strict"
    known_hosts: PathText | None = None
    connect_timeout: Annotated[float, checked(CONNECT_TIMEOUT.check)] = 10.0
    command_timeout: Annotated[float, checked(COMMAND_TIMEOUT.check)] = 30.0
    max_concurrent_connects: Annotated[int, checked(CONNECTS.check)] = 16
    use_ssh_config: Flag = True


class RaySettings(Strict):
    version: Annotated[str, checked(values.version)] | None = None
    port: Port = 6379
    address: Text = "auto"
    temp_dir: RemotePath | None = None
    # Ray's dashboard on the head's loopback, for its job server (`gridtui job`) and state
    # API (`gridtui work`); off, Ray starts only the GCS-side part of it.
    include_dashboard: Flag = True
    dashboard_port: Port = 8265
    dashboard_agent_port: Port = 52365
    # Ray's client server on the head (ray://HEAD:PORT); Ray cannot be told not to run it.
    client_server_port: Port = 10001
    # Every Ray process needs the cluster's token (docs/operations.md#security); "disabled"
    # opens the GCS to anyone who can reach its port, so only an explicit setting does it.
    auth: Literal["token", "disabled"] = "token"
    object_store_memory: StoreSize | None = None
    venv: RemotePath = "~/.gridtui/venv"
    # Share of each node's Ray object store that `gridtui memory` may fill; the rest stays
    # free for task arguments, results and the chunks in flight of a transfer.
    store_capacity: Annotated[float, checked(STORE_SHARE.check)] = 0.5


class UiSettings(Strict):
    theme: Annotated[str, checked(values.theme)] | None = None
    # The console refuses every key that changes the cluster (as `gridtui --read-only`).
    read_only: Flag = False


class AlertSettings(Strict):
    cpu_percent: Annotated[float, checked(PERCENT.check)] = 90.0
    memory_percent: Annotated[float, checked(PERCENT.check)] = 90.0
    gpu_percent: Annotated[float, checked(PERCENT.check)] = 95.0
    sustain_seconds: Annotated[float, checked(SUSTAIN.check)] = 10.0
