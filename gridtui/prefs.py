"""UI preferences remembered between runs; a broken file is ignored, never fatal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gridtui import paths
from gridtui.outfile import OutputError, write_file


class Prefs:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.prefs_file()
        self._data: dict[str, Any] = {}
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                self._data = loaded
        except (OSError, ValueError):
            pass

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        """Replaced whole (gridtui/outfile.py), so a crash mid-write cannot leave half a file."""
        self._data[key] = value
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_file(self.path, json.dumps(self._data, indent=2))
        except (OSError, OutputError):
            pass  # a read-only home must not stop the console
