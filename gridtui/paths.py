"""Where gridtui keeps its files: the XDG base directories."""

from __future__ import annotations

import os
from pathlib import Path


def _xdg(var: str, default: str) -> Path:
    value = os.environ.get(var)
    return Path(value) if value else Path.home() / default


def config_dir() -> Path:
    return _xdg("XDG_CONFIG_HOME", ".config") / "gridtui"


def state_dir() -> Path:
    return _xdg("XDG_STATE_HOME", ".local/state") / "gridtui"


def prefs_file() -> Path:
    """UI preferences remembered between runs (the chosen theme)."""
    return state_dir() / "prefs.json"
