"""Console test fixtures: the real app on a recorded trace, prefs in a temp dir, UTC clock."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from recorded import DEFAULT_TRACE, recorded_backend

from gridtui.backend import Backend
from gridtui.prefs import Prefs
from gridtui.ui.app import GridApp, make_app

# The header's clock is the snapshot's time in local time: pin the zone for snapshots.
os.environ["TZ"] = "UTC"
time.tzset()

SIZE = (140, 40)


@pytest.fixture(autouse=True)
def no_user_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test reads or writes the real user's prefs or config."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("GRIDTUI_CONFIG", raising=False)
    yield


@pytest.fixture
def trace_path() -> Path:
    assert DEFAULT_TRACE.is_file(), "regenerate with: python -m gridtui.recorded"
    return DEFAULT_TRACE


@pytest.fixture
def prefs_path(tmp_path: Path) -> Path:
    return tmp_path / "prefs.json"


@pytest.fixture
def backend(trace_path: Path, prefs_path: Path) -> Backend:
    return recorded_backend(trace_path, Prefs(prefs_path))


@pytest.fixture
def app(backend: Backend) -> GridApp:
    return make_app(backend)
