"""Finding and reading a cluster file; every error names file, line, field and value."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from gridtui import configvalues as values
from gridtui import paths
from gridtui.config.cluster import ClusterConfig
from gridtui.configfile import (
    MAX_NODES,
    ConfigError,
    decode,
    field_name,
    line_of,
    load_yaml,
    read_bytes,
)
from gridtui.configvalues import show


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
