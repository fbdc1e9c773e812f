"""The back-end never imports Textual, and the CLI's start path never imports Ray."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import gridtui

BACKEND = sorted(
    m.name
    for m in pkgutil.walk_packages(gridtui.__path__, "gridtui.")
    if not m.name.startswith("gridtui.ui") and m.name != "gridtui.__main__"
)


def modules_after_import(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize("module", BACKEND)
def test_backend_module_does_not_import_textual(module: str) -> None:
    loaded = modules_after_import(module)
    assert "textual" not in loaded, f"{module} pulls in textual"


def test_console_start_path_does_not_import_ray() -> None:
    loaded = modules_after_import(
        "gridtui.cli, gridtui.ui.console, gridtui.backend.console, gridtui.ui.app"
    )
    assert "ray" not in loaded


def test_console_first_frame_imports_none_of_the_back_end() -> None:
    """Until the first frame, `gridtui` parses its options and draws: pydantic, the cluster
    file's models, the subcommands and the forms load after it (issue 7's first frame)."""
    code = (
        "import sys; from gridtui.cli import parse_args; parse_args(['-c', 'x.yaml']); "
        "import gridtui.ui.console; print(' '.join(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    late = ("pydantic", "gridtui.config", "gridtui.backend", "gridtui.commands.cluster_cmd",
            "gridtui.ui.screens.boost_form", "gridtui.ui.screens.help", "asyncssh", "ray",
            # The theme files come from their cache; the tabs of a small terminal come
            # after the first frame; cluster operations on their key. (The DataTable is
            # back in the first frame with the Memory objects pane's table.)
            "yaml", "textual.widgets._tabbed_content",
            "gridtui.model.operations")  # fmt: skip
    assert not [m for m in late if m in out]
