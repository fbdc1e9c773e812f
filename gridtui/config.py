"""Cluster file models and YAML loading whose every error names file, line, field and value."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    model_validator,
)

from gridtui import configvalues as values
from gridtui import paths
from gridtui.configfile import (
    MAX_NODES,
    ConfigError,
    decode,
    field_name,
    line_of,
    load_yaml,
    read_bytes,
)
from gridtui.configvalues import (
    COMMAND_TIMEOUT,
    CONNECT_TIMEOUT,
    CONNECTS,
    COOLDOWN,
    CPUS,
    EXPONENT,
    GPUS,
    HISTORY,
    HYSTERESIS,
    MIN_OBJECT_STORE,
    PERCENT,
    PORT,
    SAMPLE_INTERVAL,
    STORE_SHARE,
    SUSTAIN,
    THRESHOLD,
    Range,
    flag,
    human_size,
    parse_size,
    show,
    size_check,
    text_check,
    theme_names,
)
from gridtui.model.offload import HEAD, OffloadPolicy, Rule


def checked(check: Callable[[Any], Any]) -> PlainValidator:
    """Pydantic's half of the value checks. Here, not in configvalues, which stays free of
    pydantic: the CLI's option types and the console's first frame never import it."""
    if isinstance(getattr(check, "__self__", None), Range):

        def number(value: Any) -> Any:
            if isinstance(value, str) and EXPONENT.match(value):
                value = float(value)
            return check(value)

        return PlainValidator(number)
    return PlainValidator(check)


Text = Annotated[str, checked(text_check())]
PathText = Annotated[Path, checked(text_check(4096, path=True))]
RemotePath = Annotated[str, checked(text_check(4096))]
Flag = Annotated[bool, checked(flag)]
Port = Annotated[int, checked(PORT.check)]
Memory = Annotated[int, checked(size_check(0))]
StoreSize = Annotated[int, checked(size_check(MIN_OBJECT_STORE))]


__all__ = [
    "MAX_NODES",
    "ClusterConfig",
    "ConfigError",
    "LoadedConfig",
    "NodeConfig",
    "Range",
    "Resources",
    "SshSettings",
    "find_config",
    "human_size",
    "load_config",
    "parse_config",
    "parse_size",
    "require_config",
    "show",
    "theme_names",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_sections(cls, data: Any) -> Any:
        """`ssh:` with everything below it commented out is an empty section, not an error."""
        if isinstance(data, dict):
            sections = {"ssh", "ray", "ui", "alerts", "resources", "offload", "thresholds"}
            return {k: v for k, v in data.items() if not (k in sections and v is None)}
        return data


class Resources(_Strict):
    """What a node offers to Ray; the demo and `ray start` use these as the node's capacity."""

    cpu: Annotated[int, checked(CPUS.check)] | None = None
    gpu: Annotated[int, checked(GPUS.check)] | None = None
    memory: Memory | None = None
    object_store_memory: StoreSize | None = None
    custom: Annotated[dict[str, float], checked(values.custom)] = Field(default_factory=dict)


class NodeConfig(_Strict):
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


class SshSettings(_Strict):
    host_key_policy: Literal["strict", "accept-new"] = "strict"
    known_hosts: PathText | None = None
    connect_timeout: Annotated[float, checked(CONNECT_TIMEOUT.check)] = 10.0
    command_timeout: Annotated[float, checked(COMMAND_TIMEOUT.check)] = 30.0
    max_concurrent_connects: Annotated[int, checked(CONNECTS.check)] = 16
    use_ssh_config: Flag = True


class RaySettings(_Strict):
    version: Annotated[str, checked(values.version)] | None = None
    port: Port = 6379
    address: Text = "auto"
    temp_dir: RemotePath | None = None
    # Ray's dashboard on the head's loopback, for its job server (`gridtui job`) and state
    # API (`gridtui work`); off, Ray starts only the GCS-side part of it.
    include_dashboard: Flag = True
    dashboard_port: Port = 8265
    dashboard_agent_port: Port = 52365
    # Every Ray process needs the cluster's token (docs/operations.md#security); "disabled"
    # opens the GCS to anyone who can reach its port, so only an explicit setting does it.
    auth: Literal["token", "disabled"] = "token"
    object_store_memory: StoreSize | None = None
    venv: RemotePath = "~/.gridtui/venv"
    # Share of each node's Ray object store that `gridtui memory` may fill; the rest stays
    # free for task arguments, results and the chunks in flight of a transfer.
    store_capacity: Annotated[float, checked(STORE_SHARE.check)] = 0.5


class UiSettings(_Strict):
    theme: Annotated[str, checked(values.theme)] | None = None
    # The console refuses every key that changes the cluster (as `gridtui --read-only`).
    read_only: Flag = False


class AlertSettings(_Strict):
    cpu_percent: Annotated[float, checked(PERCENT.check)] = 90.0
    memory_percent: Annotated[float, checked(PERCENT.check)] = 90.0
    gpu_percent: Annotated[float, checked(PERCENT.check)] = 95.0
    sustain_seconds: Annotated[float, checked(SUSTAIN.check)] = 10.0


Percent = Annotated[float, checked(THRESHOLD.check)]
Seconds = Annotated[float, checked(SUSTAIN.check)]
Points = Annotated[float, checked(HYSTERESIS.check)]
Cooldown = Annotated[float, checked(COOLDOWN.check)]


class OffloadThresholds(_Strict):
    """Percent of the node's capacity; a resource left out here is not watched."""

    cpu: Percent | None = 80.0
    memory: Percent | None = 85.0
    gpu: Percent | None = 90.0


class OffloadOverride(_Strict):
    """One node's own values; what it leaves out comes from the general ones."""

    thresholds: dict[Literal["cpu", "memory", "gpu"], Percent] = Field(default_factory=dict)
    sustain_seconds: Seconds | None = None
    hysteresis: Points | None = None
    cooldown_seconds: Cooldown | None = None


class OffloadSettings(_Strict):
    """Auto-offload (gridtui offload auto): fence a watched node its owner keeps busy."""

    enabled: Flag = False
    dry_run: Flag = False
    thresholds: OffloadThresholds = Field(default_factory=OffloadThresholds)
    sustain_seconds: Seconds = 10.0
    hysteresis: Points = 10.0
    cooldown_seconds: Cooldown = 30.0
    # Node names; "head" is the head whatever its name.
    watched: list[Annotated[str, checked(values.node_name)]] = Field(
        default_factory=lambda: [HEAD], min_length=1, max_length=MAX_NODES
    )
    overrides: dict[Annotated[str, checked(values.node_name)], OffloadOverride] = Field(
        default_factory=dict
    )

    @model_validator(mode="after")
    def _band_below_threshold(self) -> OffloadSettings:
        """A lift line at or under 0% would hold a fence forever."""
        for resource, limit in self.thresholds.model_dump().items():
            if limit is not None and self.hysteresis >= limit:
                raise ValueError(
                    values.at(
                        ("hysteresis",),
                        f"{self.hysteresis:g} points would never lift a fence at the "
                        f"{resource} threshold of {limit:g}%: use less than {limit:g}",
                    )
                )
        return self

    def policy(self) -> OffloadPolicy:
        """The engine's form: one rule per resource, and per overridden node."""
        general: dict[str, float] = {
            k: v for k, v in self.thresholds.model_dump().items() if v is not None
        }

        def rule(limit: float, own: OffloadOverride | None = None) -> Rule:
            mine = own or OffloadOverride()
            return Rule(
                limit,
                self.sustain_seconds if mine.sustain_seconds is None else mine.sustain_seconds,
                self.hysteresis if mine.hysteresis is None else mine.hysteresis,
                self.cooldown_seconds if mine.cooldown_seconds is None else mine.cooldown_seconds,
            )

        overrides: dict[str, dict[str, Rule]] = {}
        for node, own in self.overrides.items():
            limits = dict(general) | {str(k): v for k, v in own.thresholds.items()}
            overrides[node] = {r: rule(limit, own) for r, limit in limits.items()}
        return OffloadPolicy(
            enabled=self.enabled,
            rules={k: rule(v) for k, v in general.items()},
            overrides=overrides,
            watched=tuple(self.watched),
            dry_run=self.dry_run,
        )


class ClusterConfig(_Strict):
    name: Annotated[str, checked(values.text_check(63))] = "cluster"
    sample_interval: Annotated[float, checked(SAMPLE_INTERVAL.check)] = 1.0
    history_seconds: Annotated[float, checked(HISTORY.check)] = 600.0
    demo: Flag = False
    nodes: list[NodeConfig] = Field(min_length=1, max_length=MAX_NODES)
    ssh: SshSettings = Field(default_factory=SshSettings)
    ray: RaySettings = Field(default_factory=RaySettings)
    ui: UiSettings = Field(default_factory=UiSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    offload: OffloadSettings = Field(default_factory=OffloadSettings)

    @model_validator(mode="after")
    def _roles_and_names(self) -> ClusterConfig:
        seen: set[str] = set()
        for i, node in enumerate(self.nodes):
            if node.name in seen:
                raise ValueError(
                    values.at(("nodes", i, "name"), f"node name {node.name!r} is used twice")
                )
            seen.add(node.name)
        for i, name in enumerate(self.offload.watched):
            if name != HEAD and name not in seen:
                raise ValueError(
                    values.at(("offload", "watched", i), f"no node named {name!r} to watch")
                )
        for name in self.offload.overrides:
            if name != HEAD and name not in seen:
                raise ValueError(
                    values.at(("offload", "overrides", name), f"no node named {name!r}")
                )
        heads = [i for i, n in enumerate(self.nodes) if n.role == "head"]
        if len(heads) > 1:
            names = ", ".join(self.nodes[i].name for i in heads)
            raise ValueError(
                values.at(
                    ("nodes", heads[1], "role"), f"only one node can be the head, found {names}"
                )
            )
        return self

    @property
    def head(self) -> NodeConfig:
        """The Ray head: the node marked head, else the first node (the seed's convention)."""
        return next((n for n in self.nodes if n.role == "head"), self.nodes[0])

    def node(self, name: str) -> NodeConfig:
        for node in self.nodes:
            if node.name == name:
                return node
        known = ", ".join(n.name for n in self.nodes)
        raise ConfigError([f"unknown node {name!r} (known: {known})"])


@dataclass(frozen=True)
class LoadedConfig:
    config: ClusterConfig
    path: Path | None


def _plain(text: str) -> str:
    """A file name or field as printable text: one problem must stay one line."""
    return text if text.isprintable() else repr(text)[1:-1]


def _problem(err: Mapping[str, Any], root: yaml.Node | None, source: str) -> str:
    loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function"))]
    msg = str(err["msg"]).removeprefix("Value error, ")
    tagged = values.split_at(msg)
    if tagged is not None:
        loc = [*loc, *tagged[0]]
        msg = tagged[1]
    kind, value = err["type"], err.get("input")
    if kind == "extra_forbidden":
        msg = "unknown field (check the spelling; see docs/configuration.md)"
    elif kind == "missing":
        msg = "required field is missing"
    elif kind in ("model_type", "dict_type", "model_attributes_type"):
        msg = f"expected a mapping, got {show(value)}"
    elif kind == "list_type":
        msg = f"expected a list, got {show(value)}"
    elif kind == "too_short" and loc == ["nodes"]:
        msg = "needs at least one node"
    elif kind == "literal_error":
        msg = f"expected {(err.get('ctx') or {}).get('expected', 'one of the listed values')}, "
        msg += f"got {show(value)}"
    where = line_of(root, loc)
    shown = [p if isinstance(p, int) else _plain(str(p))[:64] for p in loc]
    return f"{source}:{where or '?'}: {field_name(shown)}: {_plain(msg)}"


def parse_config(text: str, source: str = "<string>") -> ClusterConfig:
    """Validate YAML text; raise ConfigError naming source:line: field for every problem."""
    source = _plain(source)
    data, root = load_yaml(text, source)
    if data is None:
        raise ConfigError([f"{source}:1: the file is empty; it needs at least `nodes:`"])
    if not isinstance(data, dict):
        raise ConfigError([f"{source}:1: the top level must be a mapping with `nodes:`"])
    nodes = data.get("nodes")
    if isinstance(nodes, list) and len(nodes) > MAX_NODES:
        where = line_of(root, ["nodes"])
        raise ConfigError(
            [f"{source}:{where}: nodes: {len(nodes)} nodes; gridtui runs at most {MAX_NODES}"]
        )
    try:
        return ClusterConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError([_problem(e, root, source) for e in exc.errors()]) from None


def find_config(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The lookup order: -c, $GRIDTUI_CONFIG, ./gridtui.yaml, the XDG config file.

    An explicit empty path is refused, never taken as "not given": that would quietly
    check some other file."""
    if explicit is not None:
        if not os.fspath(explicit):
            raise ConfigError(["-c: the cluster file path is empty"])
        return Path(explicit)
    env = os.environ.get("GRIDTUI_CONFIG")
    if env:
        return Path(env)
    for candidate in (Path("gridtui.yaml"), paths.config_dir() / "cluster.yaml"):
        if candidate.is_file():
            return candidate
    return None


def require_config(explicit: str | os.PathLike[str] | None = None) -> Path:
    """find_config, or the one-line ConfigError (exit 2) every command gives without one."""
    path = find_config(explicit)
    if path is None:
        raise ConfigError(
            [
                "gridtui: no cluster file (-c FILE, $GRIDTUI_CONFIG, ./gridtui.yaml or "
                "~/.config/gridtui/cluster.yaml); `gridtui demo start` runs a local one"
            ]
        )
    return path


def load_config(path: str | os.PathLike[str]) -> ClusterConfig:
    """A cluster file: a regular UTF-8 file of at most 1 MiB, checked before it is read."""
    path = Path(path)
    source = _plain(str(path))
    return parse_config(decode(read_bytes(path, source), source), source)
