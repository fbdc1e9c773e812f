"""ruff and mypy stay clean: the style rules are checked by the same command as the tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_lint_and_format() -> None:
    paths = ("gridtui", "tests", "bench", "scripts")
    lint = run(str(BIN / "ruff"), "check", *paths)
    assert lint.returncode == 0, lint.stdout
    fmt = run(str(BIN / "ruff"), "format", "--check", *paths)
    assert fmt.returncode == 0, fmt.stdout


def test_mypy() -> None:
    result = run(str(BIN / "mypy"))
    assert result.returncode == 0, result.stdout
