"""Suite-wide collection rules."""

from __future__ import annotations

from pathlib import Path

import pytest

INTEGRATION = Path(__file__).parent / "integration"


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that starts Ray, SSH servers or the demo runs in one xdist group, so
    under `pytest -n 2 --dist loadgroup` they run one after another on one worker (they
    share the demo's fixed addresses and ports) while the Ray-free tests run beside them."""
    for item in items:
        if INTEGRATION in item.path.parents or item.get_closest_marker("ray"):
            item.add_marker(pytest.mark.xdist_group("cluster"))
