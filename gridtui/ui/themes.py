"""Theme files (YAML data in themes/) turned into Textual Themes at start."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from textual.theme import Theme

from gridtui.themefiles import read_theme_files

log = logging.getLogger(__name__)

DEFAULT_THEME = "gridtui-dusk"
_FIELDS = {
    "name",
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
    "dark",
    "luminosity_spread",
    "text_alpha",
    "variables",
}


def theme_from_data(data: dict[str, Any], source: str) -> Theme:
    unknown = set(data) - _FIELDS
    if unknown:
        raise ValueError(f"{source}: unknown theme fields: {', '.join(sorted(unknown))}")
    if "name" not in data or "primary" not in data:
        raise ValueError(f"{source}: a theme needs at least `name` and `primary`")
    variables = {str(k): str(v) for k, v in (data.get("variables") or {}).items()}
    return Theme(**{**data, "variables": variables})


def load_themes(directory: Path | None = None) -> list[Theme]:
    """Every readable theme file, sorted by name; a broken file is skipped with a log line."""
    themes = []
    for found in read_theme_files(directory):
        try:
            if found.error:
                raise ValueError(found.error)
            if not isinstance(found.data, dict):
                raise ValueError(f"{found.path}: a theme file is a mapping")
            themes.append(theme_from_data(found.data, str(found.path)))
        except (ValueError, TypeError) as exc:
            log.warning("skipping theme %s: %s", found.path, exc)
    return sorted(themes, key=lambda t: t.name)


class Remembered(Protocol):
    """The preferences the theme is remembered in (gridtui/prefs.py's Prefs)."""

    def get(self, key: str, default: Any = None) -> Any: ...
    def set(self, key: str, value: Any) -> None: ...


def choose_theme(
    known: Mapping[str, object],
    requested: str | None,
    prefs: Remembered,
    config_theme: str | None,
    notes: list[str],
) -> str:
    """--theme, then the remembered one, then the cluster file's, then gridtui's default.
    An unknown --theme is noted (the console shows `notes` once it runs)."""
    if requested:
        if requested in known:
            prefs.set("theme", requested)
            return requested
        notes.append(f"Unknown theme {requested!r}; try one of: {', '.join(sorted(known))}")
    for candidate in (prefs.get("theme"), config_theme, DEFAULT_THEME):
        if isinstance(candidate, str) and candidate in known:
            return candidate
    return "textual-dark"
