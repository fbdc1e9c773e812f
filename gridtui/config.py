"""Cluster file models and YAML loading whose every error names file, line, field and value."""

from __future__ import annotations

import math
import os
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
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

import gridtui
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
_RESOURCE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:/-]{0,63}$")
_RAY_OWN_RESOURCES = {"CPU", "GPU", "memory", "object_store_memory"}
# Ray refuses an object store under 75 MiB (ray_constants.OBJECT_STORE_MINIMUM_MEMORY_BYTES).
MIN_OBJECT_STORE = 75 * 1024**2
MAX_SIZE = 1024**5  # 1 PiB: more than any one machine, far less than overflows anything
# Textual's built-in theme names (textual.theme.BUILTIN_THEMES for the pinned Textual; a test
# compares): listed here so checking `ui.theme` never imports Textual.
TEXTUAL_THEMES = frozenset(
    {
        "ansi-dark", "ansi-light", "atom-one-dark", "atom-one-light", "catppuccin-frappe",
        "catppuccin-latte", "catppuccin-macchiato", "catppuccin-mocha", "dracula", "flexoki",
        "gruvbox", "monokai", "nord", "rose-pine", "rose-pine-dawn", "rose-pine-moon",
        "solarized-dark", "solarized-light", "textual-dark", "textual-light", "tokyo-night",
    }
)  # fmt: skip


def show(value: Any) -> str:
    """A value as the user wrote it (YAML spelling), short, with control characters escaped."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    if isinstance(value, int):
        if value.bit_length() > 64:  # str() of a huge int is slow, and refused past 4300 digits
            return f"a {int(value.bit_length() * 0.30103) + 1}-digit number"
        return str(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, bytes):
        return "binary data"
    return f"a {value.__class__.__name__} ({str(value)[:40]})"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


@dataclass(frozen=True)
class Range:
    """A documented range of numbers: config fields and CLI options are checked with it."""

    lo: float
    hi: float
    integer: bool = False
    lo_open: bool = False  # `lo` itself is refused (a percentage above 0)
    unit: str = ""

    def describe(self) -> str:
        kind = "a whole number" if self.integer else "a number"
        low = f"above {_num(self.lo)}" if self.lo_open else f"from {_num(self.lo)}"
        unit = f" {self.unit}" if self.unit else ""
        return f"{kind} {low} to {_num(self.hi)}{unit}"

    def check(self, value: Any, shown: str | None = None) -> Any:
        """The value (a float unless `integer`), or ValueError naming it and the range.

        `shown` is the value as typed, when it came as text (a command-line option)."""
        said = shown if shown is not None else show(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected {self.describe()}, got {said}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{said} is not a finite number: expected {self.describe()}")
        if self.integer and not isinstance(value, int):
            raise ValueError(f"{said} is not a whole number: expected {self.describe()}")
        low = value <= self.lo if self.lo_open else value < self.lo
        if low or value > self.hi:
            raise ValueError(f"{said} is out of range: expected {self.describe()}")
        return value if self.integer else float(value)


def human_size(n: int) -> str:
    for unit, size in (("PiB", 1024**5), ("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"


def parse_size(value: Any) -> int:
    """Turn 2GiB, 512MB, 1.5g or a plain number of bytes into bytes."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected a size such as 4GiB or 512MB, got {show(value)}")
    number: float
    if isinstance(value, str):
        match = _SIZE_RE.match(value)
        if not match or match.group(2).lower() not in SIZE_UNITS:
            raise ValueError(f"{show(value)} is not a size such as 4GiB or 512MB")
        number = float(match.group(1)) * SIZE_UNITS[match.group(2).lower()]
    else:
        number = value
    if isinstance(number, float) and not math.isfinite(number):
        raise ValueError(f"{show(value)} is not a finite size")
    if number < 0:
        raise ValueError(f"{show(value)} is negative; a size cannot be")
    return int(number)


def _size(lo: int, hi: int = MAX_SIZE) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        n = parse_size(value)
        if not lo <= n <= hi:
            span = f"{human_size(lo)} to {human_size(hi)}"
            raise ValueError(f"{show(value)} is out of range: expected a size from {span}")
        return n

    return check


def _bad_char(text: str) -> int | None:
    """Where a control, format or separator character is: none belongs in a name or path."""
    for i, c in enumerate(text):
        if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            return i
    return None


def _text(max_len: int = 256, *, path: bool = False) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if path and isinstance(value, Path):
            value = str(value)
        if not isinstance(value, str):
            hint = ""
            if isinstance(value, int | float) and not isinstance(value, bool):
                hint = f' (quote it: "{show(value)}")'
            raise ValueError(f"expected text, got {show(value)}{hint}")
        if not value:
            raise ValueError("must not be empty")
        bad = _bad_char(value)
        if bad is not None:
            raise ValueError(
                f"{show(value)} contains a control character "
                f"(U+{ord(value[bad]):04X} at position {bad + 1})"
            )
        if len(value) > max_len:
            raise ValueError(f"too long ({len(value)} characters; at most {max_len})")
        return Path(os.path.expanduser(value)) if path else value

    return check


def _name(value: Any) -> str:
    text = _text(63)(value)
    if not _NAME_RE.match(text):
        raise ValueError(
            f"{show(text)}: use letters, digits, '.', '_' and '-' "
            "(up to 63, starting with a letter or digit)"
        )
    return str(text)


def _host(value: Any) -> str:
    text = str(_text(253)(value))
    if text.startswith("-") or any(c.isspace() for c in text):
        raise ValueError(f"{show(text)}: a host name or address, without spaces or a leading '-'")
    return text


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError(f"expected true or false, got {show(value)}")


def _version(value: Any) -> str:
    text = str(_text(64)(value))
    if not re.match(r"^[0-9][0-9A-Za-z.+!-]*$", text):
        raise ValueError(f'{show(text)} is not a version such as "2.60.0"')
    return text


def _custom(value: Any) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"expected a mapping of resource name to amount, got {show(value)}")
    out = {}
    for name, amount in value.items():
        if not isinstance(name, str) or not _RESOURCE_RE.match(name):
            raise ValueError(
                f"resource name {show(name)}: use letters, digits, '_', '.', ':', '/', '-' "
                "(up to 64, starting with a letter or '_')"
            )
        if name in _RAY_OWN_RESOURCES or name.startswith("node:"):
            raise ValueError(_at((name,), f"{name!r} is Ray's own: use cpu, gpu or memory"))
        try:
            out[name] = float(CUSTOM_AMOUNT.check(amount))
        except ValueError as exc:
            raise ValueError(_at((name,), str(exc))) from None
    return out


def _theme(value: Any) -> str:
    text = str(_text(64)(value))
    known = theme_names()
    if text not in known:
        raise ValueError(f"unknown theme {show(text)}; known: {', '.join(sorted(known))}")
    return text


# The documented ranges (docs/configuration.md lists each).
SAMPLE_INTERVAL = Range(0.1, 300, unit="seconds")
HISTORY = Range(10, 86400, unit="seconds")
PORT = Range(1, 65535, integer=True)
CPUS = Range(0, 4096, integer=True)
GPUS = Range(0, 1024, integer=True)
CUSTOM_AMOUNT = Range(0, 1e9, lo_open=True)
CONNECT_TIMEOUT = Range(0.5, 300, unit="seconds")
COMMAND_TIMEOUT = Range(1, 3600, unit="seconds")
CONNECTS = Range(1, 1000, integer=True)
PERCENT = Range(0, 100, lo_open=True, unit="percent")
SUSTAIN = Range(0, 3600, unit="seconds")


# PyYAML (YAML 1.1) reads 1e9 and 1.0e9 as text; YAML 1.2 and every user read a number.
_EXPONENT = re.compile(r"^[-+]?[0-9]+(\.[0-9]*)?[eE][-+]?[0-9]+$")


def _check(check: Callable[[Any], Any]) -> PlainValidator:
    if isinstance(getattr(check, "__self__", None), Range):

        def number(value: Any) -> Any:
            if isinstance(value, str) and _EXPONENT.match(value):
                value = float(value)
            return check(value)

        return PlainValidator(number)
    return PlainValidator(check)


Text = Annotated[str, _check(_text())]
PathText = Annotated[Path, _check(_text(4096, path=True))]
RemotePath = Annotated[str, _check(_text(4096))]
Flag = Annotated[bool, _check(_flag)]
Port = Annotated[int, _check(PORT.check)]
Memory = Annotated[int, _check(_size(0))]
StoreSize = Annotated[int, _check(_size(MIN_OBJECT_STORE))]


def _at(loc: tuple[int | str, ...], message: str) -> str:
    """Tag an error with the field below this one it is about, so its line can be found."""
    return "@" + "/".join(str(p) for p in loc) + "@ " + message


def _split_at(message: str) -> tuple[list[int | str], str] | None:
    if not message.startswith("@") or "@ " not in message[1:]:
        return None
    tag, _, rest = message[1:].partition("@ ")
    return [int(p) if p.isdigit() else p for p in tag.split("/")], rest


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_sections(cls, data: Any) -> Any:
        """`ssh:` with everything below it commented out is an empty section, not an error."""
        if isinstance(data, dict):
            sections = {"ssh", "ray", "ui", "alerts", "resources"}
            return {k: v for k, v in data.items() if not (k in sections and v is None)}
        return data


class Resources(_Strict):
    """What a node offers to Ray; the demo and `ray start` use these as the node's capacity."""

    cpu: Annotated[int, _check(CPUS.check)] | None = None
    gpu: Annotated[int, _check(GPUS.check)] | None = None
    memory: Memory | None = None
    object_store_memory: StoreSize | None = None
    custom: Annotated[dict[str, float], _check(_custom)] = Field(default_factory=dict)


class NodeConfig(_Strict):
    name: Annotated[str, _check(_name)]
    host: Annotated[str, _check(_host)]
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
    connect_timeout: Annotated[float, _check(CONNECT_TIMEOUT.check)] = 10.0
    command_timeout: Annotated[float, _check(COMMAND_TIMEOUT.check)] = 30.0
    max_concurrent_connects: Annotated[int, _check(CONNECTS.check)] = 16
    use_ssh_config: Flag = True


class RaySettings(_Strict):
    version: Annotated[str, _check(_version)] | None = None
    port: Port = 6379
    address: Text = "auto"
    temp_dir: RemotePath | None = None
    include_dashboard: Flag = False
    object_store_memory: StoreSize | None = None
    venv: RemotePath = "~/.gridtui/venv"


class UiSettings(_Strict):
    theme: Annotated[str, _check(_theme)] | None = None


class AlertSettings(_Strict):
    cpu_percent: Annotated[float, _check(PERCENT.check)] = 90.0
    memory_percent: Annotated[float, _check(PERCENT.check)] = 90.0
    gpu_percent: Annotated[float, _check(PERCENT.check)] = 95.0
    sustain_seconds: Annotated[float, _check(SUSTAIN.check)] = 10.0


class ClusterConfig(_Strict):
    name: Annotated[str, _check(_text(63))] = "cluster"
    sample_interval: Annotated[float, _check(SAMPLE_INTERVAL.check)] = 1.0
    history_seconds: Annotated[float, _check(HISTORY.check)] = 600.0
    demo: Flag = False
    nodes: list[NodeConfig] = Field(min_length=1, max_length=MAX_NODES)
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


def themes_dir() -> Path:
    """The wheel ships themes/ as gridtui/_themes; a checkout has it beside the package."""
    shipped = Path(gridtui.__file__).parent / "_themes"
    return shipped if shipped.is_dir() else Path(gridtui.__file__).parent.parent / "themes"


@cache
def theme_names() -> frozenset[str]:
    """Every theme the console can show: gridtui's theme files and Textual's built-ins."""
    names = set(TEXTUAL_THEMES)
    directory = themes_dir()
    for path in sorted(directory.glob("*.y*ml")) if directory.is_dir() else []:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            names.add(data["name"])
    return frozenset(names)


def _plain(text: str) -> str:
    """A file name or field as printable text: one problem must stay one line."""
    return text if text.isprintable() else repr(text)[1:-1]


def _problem(err: Mapping[str, Any], root: yaml.Node | None, source: str) -> str:
    loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function"))]
    msg = str(err["msg"]).removeprefix("Value error, ")
    tagged = _split_at(msg)
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
