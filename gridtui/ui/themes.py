"""Theme files (YAML data in themes/) turned into Textual Themes at start."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

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
