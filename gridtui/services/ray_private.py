"""Every private Ray name gridtui relies on, in one place: an upgrade that moves one fails here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PRIVATE_NAMES: tuple[tuple[str, str, str], ...] = (
    (
        "ray._private.worker",
        "print_to_stdstream",
        "the driver prints cluster events to stdout with it; the console diverts them",
    ),
    (
        "ray._private.state",
        "state",
        "the GlobalState: per-node available resources (ray.nodes() has only the totals)",
    ),
    (
        "ray._private.internal_api",
        "get_state_from_address",
        "a GlobalState from the GCS address alone, without a driver; used by the node "
        "script (gridtui/agent/nodescript.py), which runs on nodes and imports it itself",
    ),
)
"""(module, name, why): checked by tests/unit/test_ray_private.py."""

STATE_METHODS = ("node_table", "available_resources_per_node")
"""What gridtui calls on a GlobalState (agent/nodescript.py ray_view)."""


def divert_driver_messages(write: Callable[..., None]) -> None:
    """Send the driver's cluster-event printing ("node ... marked dead") to `write`."""
    from ray._private import worker

    worker.print_to_stdstream = write


def global_state() -> Any:
    """The connected driver's GlobalState (call on the gateway's thread, after ray.init)."""
    from ray._private import state

    return state.state
