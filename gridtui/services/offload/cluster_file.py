"""Saving a tuned offload threshold into the cluster file, comments and layout kept."""

from __future__ import annotations

import io
import re
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from gridtui.config import parse_config
from gridtui.configfile import ConfigError, decode, read_bytes
from gridtui.errors import UserError
from gridtui.outfile import OutputError, write_file


class SaveRefused(UserError):
    """The file could not take the value: it is left as it was."""


def threshold_path(resource: str, override: str | None) -> tuple[str, ...]:
    """Where the value lives: `offload.thresholds.cpu`, or a node's own override."""
    if override is None:
        return ("offload", "thresholds", resource)
    return ("offload", "overrides", override, "thresholds", resource)


def save_threshold(path: Path, resource: str, value: float, override: str | None = None) -> str:
    """Set the threshold in the file by a round trip (comments, order and quoting kept),
    check the result as `gridtui config check` does, and only then replace the file.
    Returns the dotted field written."""
    source = str(path)
    text = decode(read_bytes(path, source), source)
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    offset = _dash_offset(text)
    yaml.indent(mapping=2, sequence=offset + 2, offset=offset)
    yaml.width = 4096  # never re-wrap a long line the user wrote on one
    try:
        data = yaml.load(text)
    except Exception as exc:
        raise SaveRefused(f"{path}: not saved: the file does not parse ({exc})") from None
    if not isinstance(data, CommentedMap):
        raise SaveRefused(f"{path}: not saved: the file is not a mapping")
    keys = threshold_path(resource, override)
    node = data
    for key in keys[:-1]:
        child = node.get(key)
        if child is None:
            child = node[key] = CommentedMap()
        if not isinstance(child, CommentedMap):
            raise SaveRefused(f"{path}: not saved: {key} is not a mapping")
        node = child
    node[keys[-1]] = int(value) if float(value).is_integer() else float(value)
    out = io.StringIO()
    yaml.dump(data, out)
    new = out.getvalue()
    try:
        parse_config(new, source)
    except ConfigError as exc:
        raise SaveRefused(f"not saved: {exc.problems[0]}") from None
    _replace(path, new)
    return ".".join(keys)


_SEQUENCE = re.compile(r"^( *)[^\s#-][^\n]*:[ \t]*\n(?:[ \t]*(?:#[^\n]*)?\n)*( *)- ", re.M)


def _dash_offset(text: str) -> int:
    """How far the file indents a list's dashes under their key (ruamel cannot tell)."""
    found = _SEQUENCE.search(text)
    return max(0, len(found.group(2)) - len(found.group(1))) if found else 0


def _replace(path: Path, text: str) -> None:
    """Replaced whole (gridtui/outfile.py): a crash leaves the old file or the new one, the
    file keeps its mode, and a symlinked cluster file stays a link to the new text."""
    try:
        write_file(path, text)
    except OutputError as exc:
        raise SaveRefused(f"not saved: {exc.summary}") from None
