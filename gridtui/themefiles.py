"""The theme files (YAML in themes/), read through a JSON cache kept in the state directory."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gridtui
from gridtui import paths
from gridtui.outfile import OutputError, write_file

CACHE_VERSION = 1
"""Bumped when what the cache holds changes shape; an older cache is read as empty."""


@dataclass(frozen=True)
class ThemeFile:
    """One file's parsed data, or why it could not be read (`error`, data then None)."""

    path: Path
    data: Any
    error: str = ""


def themes_dir() -> Path:
    """The wheel ships themes/ as gridtui/_themes; a checkout has it beside the package."""
    shipped = Path(gridtui.__file__).parent / "_themes"
    return shipped if shipped.is_dir() else Path(gridtui.__file__).parent.parent / "themes"


def cache_file() -> Path:
    return paths.state_dir() / "theme-cache.json"


def read_theme_files(directory: Path | None = None) -> list[ThemeFile]:
    """Every theme file in `directory`, sorted by path. A file is parsed only when its size
    or time changed since the cache saw it: YAML's import and parsing cost ~25 ms, which the
    console's first frame would otherwise pay on every start."""
    directory = directory or themes_dir()
    files = sorted(directory.glob("*.y*ml")) if directory.is_dir() else []
    cache = _read_cache()
    found: list[ThemeFile] = []
    changed = False
    for path in files:
        try:
            stat = path.stat()
        except OSError as exc:
            found.append(ThemeFile(path, None, str(exc)))
            continue
        stamp = [stat.st_mtime_ns, stat.st_size]
        entry = cache.get(str(path))
        if not isinstance(entry, dict) or entry.get("stamp") != stamp:
            entry = {"stamp": stamp, **_parse(path)}
            if _storable(entry):
                cache[str(path)] = entry
                changed = True
        found.append(ThemeFile(path, entry.get("data"), str(entry.get("error") or "")))
    if changed:
        _write_cache(cache)
    return found


def _parse(path: Path) -> dict[str, Any]:
    import yaml  # only when a file changed: see read_theme_files

    try:
        return {"data": yaml.safe_load(path.read_text(encoding="utf-8"))}
    except (OSError, ValueError, yaml.YAMLError) as exc:
        return {"data": None, "error": str(exc)}


def _storable(entry: dict[str, Any]) -> bool:
    """YAML can hold what JSON cannot (dates, say): such a file is parsed on every start."""
    try:
        json.dumps(entry)
    except (TypeError, ValueError):
        return False
    return True


def _read_cache() -> dict[str, Any]:
    """The cached files by path; an unreadable, broken or older cache is an empty one."""
    try:
        loaded = json.loads(cache_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(loaded, dict) or loaded.get("version") != CACHE_VERSION:
        return {}
    files = loaded.get("files")
    return files if isinstance(files, dict) else {}


def _write_cache(files: dict[str, Any]) -> None:
    """Atomically, like the prefs; a read-only home only means parsing again next time."""
    path = cache_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_file(path, json.dumps({"version": CACHE_VERSION, "files": files}))
    except (OSError, OutputError):
        pass
