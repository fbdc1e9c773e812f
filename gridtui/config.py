"""Cluster file models and YAML loading whose every error names file, line and field."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gridtui import paths
from gridtui.errors import GridError

SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "kib": 1024,
    "m": 1000**2,
    "mb": 1000**2,
    "mib": 1024**2,
    "g": 1000**3,
    "gb": 1000**3,
    "gib": 1024**3,
    "t": 1000**4,
    "tb": 1000**4,
    "tib": 1024**4,
}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")
# Node names are shown, used as Ray labels and in file names; hosts reach ssh(1) for shells.
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


def parse_size(value: int | float | str) -> int:
    """Turn 2GiB, 512MB, 1.5g or a plain number of bytes into bytes."""
    if isinstance(value, bool):
        raise ValueError("expected a size such as 4GiB or 512MB")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a size cannot be negative")
        return int(value)
    match = _SIZE_RE.match(str(value))
    if not match or match.group(2).lower() not in SIZE_UNITS:
        raise ValueError(f"{value!r} is not a size such as 4GiB or 512MB")
    return int(float(match.group(1)) * SIZE_UNITS[match.group(2).lower()])


def _at(loc: tuple[int | str, ...], message: str) -> str:
    """Tag a whole-model error with the field it is about, so its line can be found."""
    return "@" + "/".join(str(p) for p in loc) + "@ " + message


def _split_at(message: str) -> tuple[list[int | str], str] | None:
    if not message.startswith("@") or "@ " not in message[1:]:
        return None
    tag, _, rest = message[1:].partition("@ ")
    return [int(p) if p.isdigit() else p for p in tag.split("/")], rest


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Resources(_Strict):
    """What a node offers to Ray; the demo and `ray start` use these as the node's capacity."""

    cpu: float | None = Field(default=None, ge=0)
    gpu: int | None = Field(default=None, ge=0)
    memory: int | None = None
    object_store_memory: int | None = None
    custom: dict[str, float] = Field(default_factory=dict)

    @field_validator("memory", "object_store_memory", mode="before")
    @classmethod
    def _sizes(cls, value: Any) -> int | None:
        return None if value is None else parse_size(value)


class NodeConfig(_Strict):
    name: str
    host: str
    port: int | None = Field(default=None, ge=1, le=65535)
    user: str | None = None
    identity: Path | None = None
    python: str = "python3"
    role: Literal["head", "worker"] = "worker"
    transport: Literal["ssh", "local"] = "ssh"
    # "ray-processes" samples only this Ray node's process tree against its declared
    # resources: the way co-located demo nodes each show their own load.
    sample_scope: Literal["host", "ray-processes"] = "host"
    resources: Resources = Field(default_factory=Resources)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME_RE.match(value):
            raise ValueError(
                "use letters, digits, '.', '_' and '-' (up to 63, starting with a letter or digit)"
            )
        return value

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if not value or value.startswith("-") or any(c.isspace() for c in value):
            raise ValueError("a host name or address, without spaces or a leading '-'")
        return value

    @field_validator("identity", mode="before")
    @classmethod
    def _expand(cls, value: Any) -> Any:
        return Path(os.path.expanduser(value)) if isinstance(value, str) else value


class SshSettings(_Strict):
    host_key_policy: Literal["strict", "accept-new"] = "strict"
    known_hosts: Path | None = None
    connect_timeout: float = Field(default=10.0, gt=0)
    command_timeout: float = Field(default=30.0, gt=0)
    max_concurrent_connects: int = Field(default=16, ge=1, le=1000)
    use_ssh_config: bool = True

    @field_validator("known_hosts", mode="before")
    @classmethod
    def _expand(cls, value: Any) -> Any:
        return Path(os.path.expanduser(value)) if isinstance(value, str) else value


class RaySettings(_Strict):
    version: str | None = None
    port: int = Field(default=6379, ge=1, le=65535)
    address: str = "auto"
    temp_dir: str | None = None
    include_dashboard: bool = False
    object_store_memory: int | None = None
    venv: str = "~/.gridtui/venv"
    # Share of each node's Ray object store that `gridtui memory` may fill; the rest stays
    # free for task arguments, results and the chunks in flight of a transfer.
    store_capacity: float = Field(default=0.5, gt=0, le=0.9)

    @field_validator("object_store_memory", mode="before")
    @classmethod
    def _size(cls, value: Any) -> int | None:
        return None if value is None else parse_size(value)


class UiSettings(_Strict):
    theme: str | None = None


class AlertSettings(_Strict):
    cpu_percent: float = Field(default=90.0, gt=0, le=100)
    memory_percent: float = Field(default=90.0, gt=0, le=100)
    gpu_percent: float = Field(default=95.0, gt=0, le=100)
    sustain_seconds: float = Field(default=10.0, ge=0)


class ClusterConfig(_Strict):
    name: str = "cluster"
    sample_interval: float = Field(default=1.0, ge=0.1, le=300)
    history_seconds: float = Field(default=600.0, ge=10, le=86400)
    demo: bool = False
    nodes: list[NodeConfig] = Field(min_length=1)
    ssh: SshSettings = Field(default_factory=SshSettings)
    ray: RaySettings = Field(default_factory=RaySettings)
    ui: UiSettings = Field(default_factory=UiSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)

    @model_validator(mode="after")
    def _roles_and_names(self) -> ClusterConfig:
        seen: set[str] = set()
        for i, node in enumerate(self.nodes):
            if node.name in seen:
                raise ValueError(
                    _at(("nodes", i, "name"), f"node name {node.name!r} is used twice")
                )
            seen.add(node.name)
        heads = [i for i, n in enumerate(self.nodes) if n.role == "head"]
        if len(heads) > 1:
            names = ", ".join(self.nodes[i].name for i in heads)
            raise ValueError(
                _at(("nodes", heads[1], "role"), f"only one node can be the head, found {names}")
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


class ConfigError(GridError):
    """Every problem found in a cluster file, one line each, ready to print."""

    exit_code = 2
    prefix = ""  # each problem starts with file:line

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(problems[0] if problems else "bad cluster file")
        self.problems = list(problems)

    def report(self) -> str:
        return "\n".join(self.problems)


def _line_of(root: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    """Walk the composed YAML tree along a pydantic error location to find its line."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
            if match is None:
                break
            key_node = next(k for k, v in node.value if v is match)
            line = key_node.start_mark.line + 1
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if key >= len(node.value):
                break
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _field_name(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def parse_config(text: str, source: str = "<string>") -> ClusterConfig:
    """Validate YAML text; raise ConfigError naming source:line: field for every problem."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else "?"
        raise ConfigError([f"{source}:{line}: YAML syntax: {exc.problem or exc}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{source}: YAML: {exc}"]) from None
    if data is None:
        raise ConfigError([f"{source}:1: the file is empty; it needs at least `nodes:`"])
    if not isinstance(data, dict):
        raise ConfigError([f"{source}:1: the top level must be a mapping with `nodes:`"])
    try:
        return ClusterConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function"))]
            msg = err["msg"].removeprefix("Value error, ")
            tagged = _split_at(msg)
            if tagged is not None:
                loc = [*loc, *tagged[0]]
                msg = tagged[1]
            where = _line_of(root, loc)
            if err["type"] == "extra_forbidden":
                msg = "unknown field (check the spelling; see docs/configuration.md)"
            problems.append(f"{source}:{where or '?'}: {_field_name(loc)}: {msg}")
        raise ConfigError(problems) from None


def find_config(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The lookup order: -c, $GRIDTUI_CONFIG, ./gridtui.yaml, the XDG config file."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("GRIDTUI_CONFIG")
    if env:
        return Path(env)
    for candidate in (Path("gridtui.yaml"), paths.config_dir() / "cluster.yaml"):
        if candidate.is_file():
            return candidate
    return None


def load_config(path: str | os.PathLike[str]) -> ClusterConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such file"]) from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read: {exc.__class__.__name__}"]) from None
    return parse_config(text, str(path))
