"""Theme files (YAML data in themes/) turned into Textual Themes at start."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml
from textual.theme import Theme

import gridtui

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


def themes_dir() -> Path:
    """The wheel ships themes/ as gridtui/_themes; a checkout has it beside the package."""
    shipped = Path(gridtui.__file__).parent / "_themes"
    return shipped if shipped.is_dir() else Path(gridtui.__file__).parent.parent / "themes"


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
    directory = directory or themes_dir()
    themes = []
    for path in sorted(directory.glob("*.y*ml")) if directory.is_dir() else []:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError(f"{path}: a theme file is a mapping")
            themes.append(theme_from_data(data, str(path)))
        except (OSError, ValueError, TypeError, yaml.YAMLError) as exc:
            log.warning("skipping theme %s: %s", path, exc)
    return sorted(themes, key=lambda t: t.name)
