"""Ray's private API is used in one adapter only, and each symbol it names still exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from gridtui.actors import ray_private

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("symbol", ray_private.SYMBOLS)
def test_each_private_symbol_exists_in_this_ray(symbol: str) -> None:
    parts = symbol.split(".")
    # The longest importable module prefix, then attributes down to the symbol.
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
            break
        except ImportError:
            continue
    for name in parts[cut:]:
        obj = getattr(obj, name)
    assert callable(obj), symbol


def test_the_adapter_names_every_private_use_it_makes() -> None:
    source = (ROOT / "gridtui/actors/ray_private.py").read_text()
    for use in set(re.findall(r"internal_kv\.(_\w+)", source)):
        assert f"ray.experimental.internal_kv.{use}" in ray_private.SYMBOLS
    assert "ray._private.state.state.available_resources_per_node" in ray_private.SYMBOLS


@pytest.mark.parametrize(
    "path",
    [
        *sorted((ROOT / "gridtui/actors").glob("*.py")),
        ROOT / "gridtui/services/control.py",
        ROOT / "gridtui/client.py",
        ROOT / "gridtui/commands/boost_cmd.py",
        ROOT / "gridtui/commands/sharing_cmd.py",
    ],
    ids=lambda p: p.name,
)
def test_no_other_reservation_module_reaches_into_ray_privates(path: Path) -> None:
    if path.name == "ray_private.py":
        return
    text = path.read_text()
    assert "ray._private" not in text and "internal_kv" not in text, path
