"""Theme files through their cache: read as YAML once, then from JSON until a file changes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gridtui import themefiles
from gridtui.themefiles import cache_file, read_theme_files


@pytest.fixture(autouse=True)
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state"


@pytest.fixture
def themes(tmp_path: Path) -> Path:
    directory = tmp_path / "themes"
    directory.mkdir()
    (directory / "a.yaml").write_text("name: a\nprimary: '#111111'\ndark: true\n")
    return directory


def names(directory: Path) -> list[object]:
    return [
        f.data.get("name") if isinstance(f.data, dict) else None
        for f in read_theme_files(directory)
    ]


def test_a_start_after_the_first_needs_no_yaml(state: Path) -> None:
    """The console's first frame should not pay YAML's import (issue 7): the shipped
    themes come from the cache from the second start on."""
    code = (
        "import sys; from gridtui.ui.themes import load_themes; "
        "print(sorted(t.name for t in load_themes()), 'yaml' in sys.modules)"
    )
    env = {**os.environ, "XDG_STATE_HOME": str(state)}
    runs = [
        subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        for _ in range(2)
    ]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr
    first, second = (r.stdout.strip() for r in runs)
    assert first.endswith("True") and second.endswith("False")
    assert first.removesuffix("True") == second.removesuffix("False")
    assert "gridtui-dusk" in second


def test_a_changed_file_is_read_again(themes: Path) -> None:
    assert names(themes) == ["a"]
    (themes / "a.yaml").write_text("name: renamed\nprimary: '#111111'\n")  # another size
    assert names(themes) == ["renamed"]
    (themes / "b.yml").write_text("name: b\nprimary: '#222222'\n")
    assert names(themes) == ["renamed", "b"]
    (themes / "b.yml").unlink()
    assert names(themes) == ["renamed"]


def test_the_cache_is_what_is_read(themes: Path) -> None:
    """Same size and time: the file is not parsed again (the stamp is the whole key)."""
    read_theme_files(themes)
    cached = json.loads(cache_file().read_text())
    entry = cached["files"][str(themes / "a.yaml")]
    entry["data"]["name"] = "from-the-cache"
    cache_file().write_text(json.dumps(cached))
    assert names(themes) == ["from-the-cache"]


@pytest.mark.parametrize(
    "cache",
    ["", "not json", "[]", '{"version": 1, "files": []}', '{"version": 1, "files": {"x": 1}}'],
)
def test_a_broken_cache_is_an_empty_one(themes: Path, cache: str) -> None:
    cache_file().parent.mkdir(parents=True)
    cache_file().write_text(cache)
    assert names(themes) == ["a"]
    assert json.loads(cache_file().read_text())["version"] == themefiles.CACHE_VERSION


def test_an_older_cache_is_not_believed(themes: Path) -> None:
    read_theme_files(themes)
    cached = json.loads(cache_file().read_text())
    cached["files"][str(themes / "a.yaml")]["data"]["name"] = "stale"
    cached["version"] = themefiles.CACHE_VERSION - 1
    cache_file().write_text(json.dumps(cached))
    assert names(themes) == ["a"]


def test_a_broken_file_keeps_its_error_and_yaml_json_cannot_hold_is_not_cached(
    themes: Path,
) -> None:
    (themes / "broken.yaml").write_text("name: [unclosed\n")
    (themes / "dated.yaml").write_text("name: dated\nprimary: '#444444'\nwhen: 2024-01-01\n")
    found = {f.path.name: f for f in read_theme_files(themes)}
    assert found["broken.yaml"].data is None and "flow sequence" in found["broken.yaml"].error
    assert found["dated.yaml"].data["name"] == "dated" and not found["dated.yaml"].error
    files = json.loads(cache_file().read_text())["files"]
    assert str(themes / "broken.yaml") in files and str(themes / "dated.yaml") not in files


def test_a_read_only_state_dir_only_means_parsing_again(themes: Path, state: Path) -> None:
    state.parent.mkdir(exist_ok=True)
    state.write_text("a file where the directory should be")
    assert names(themes) == ["a"]
    assert names(themes) == ["a"]
