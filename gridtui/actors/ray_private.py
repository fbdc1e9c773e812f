"""The one place gridtui uses Ray's private API; tests/unit/test_ray_private.py names each use.

Nothing public in Ray 2.60 offers a key-value store in the GCS, per-node available
resources without the dashboard, a way to keep the driver's cluster-event printing off
the terminal, a second cluster's token in one process, or a node drain (`ray drain-node`
is a hidden command whose interface Ray says is not covered by its API guarantees; it
calls the GCS client used here), so these few calls live here and an upgrade breaks
here, loudly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ray
from ray.experimental import internal_kv

NAMESPACE = "gridtui"

PRIVATE_NAMES: tuple[tuple[str, str, str], ...] = (
    ("ray.experimental.internal_kv", "_internal_kv_get", "reservation records in the GCS"),
    ("ray.experimental.internal_kv", "_internal_kv_put", "reservation records in the GCS"),
    ("ray.experimental.internal_kv", "_internal_kv_del", "reservation records in the GCS"),
    ("ray.experimental.internal_kv", "_internal_kv_list", "reservation records in the GCS"),
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
    ("ray._raylet", "GcsClient", "drain_node: Ray's own drain of a node (gridtui node drain)"),
    (
        "ray.core.generated.gcs_pb2",
        "ActorTableData",
        "the GCS actor table's entries with what each actor holds (GlobalState.actor_table "
        "leaves out required_resources): what still runs on a fenced node",
    ),
    (
        "ray._raylet",
        "GlobalStateAccessor",
        "get_actor_table: the ALIVE actors, read from the GCS (no dashboard needed)",
    ),
    (
        "ray._raylet",
        "ActorID",
        "kill_actor: Ray kills an actor only through a handle and gives none by id "
        "(`gridtui work` rows and the Work view's kill know only the id)",
    ),
    (
        "ray.core.generated.autoscaler_pb2",
        "DrainNodeReason",
        "the drain's reason (DRAIN_NODE_REASON_PREEMPTION: Ray cannot refuse it)",
    ),
    (
        "ray._raylet",
        "Config",
        "initialize: re-read RAY_AUTH_MODE, which Ray caches from the first connect",
    ),
    (
        "ray._raylet",
        "AuthenticationTokenLoader",
        "reset_cache: re-read the token file, cached from the first connect",
    ),
)
"""(module, name, why): each checked by tests/unit/test_ray_private.py."""

STATE_METHODS = (
    "node_table",
    "available_resources_per_node",
    "get_draining_nodes",
    "_connect_and_get_accessor",
)
"""What gridtui calls on a GlobalState (here and in agent/nodescript.py's ray_view)."""


def kv_get(key: str) -> bytes | None:
    value = internal_kv._internal_kv_get(key, namespace=NAMESPACE)
    return None if value is None else bytes(value)


def kv_put(key: str, value: bytes) -> None:
    internal_kv._internal_kv_put(key, value, overwrite=True, namespace=NAMESPACE)


def kv_del(key: str) -> None:
    internal_kv._internal_kv_del(key, namespace=NAMESPACE)


def kv_keys(prefix: str) -> list[str]:
    keys = internal_kv._internal_kv_list(prefix, namespace=NAMESPACE)
    return sorted(k.decode() if isinstance(k, bytes) else str(k) for k in keys)


def global_state() -> Any:
    """The connected driver's GlobalState (call after ray.init, on the driver's thread)."""
    return ray._private.state.state


def available_per_node() -> dict[str, dict[str, float]]:
    """{node id hex: {resource: available}}; a resource at zero is left out by Ray."""
    table = global_state().available_resources_per_node()
    return {str(k): {str(r): float(v) for r, v in res.items()} for k, res in table.items()}


def draining_nodes() -> set[str]:
    """Node ids (hex) Ray is draining now."""
    return {str(k) for k in global_state().get_draining_nodes()}


def alive_actors() -> list[dict[str, Any]]:
    """Every ALIVE actor in the GCS actor table: id, class, name, namespace, node id, pid
    (0 when unknown) and the resources it holds while it runs (`resources`)."""
    import importlib

    table: Any = importlib.import_module("ray.core.generated.gcs_pb2").ActorTableData
    accessor = global_state()._connect_and_get_accessor()
    out = []
    for raw in accessor.get_actor_table(None, "ALIVE"):
        data = table.FromString(raw)
        out.append(
            {
                "actor_id": data.actor_id.hex(),
                "class": str(data.class_name),
                "name": str(data.name),
                "namespace": str(data.ray_namespace),
                "node_id": (data.address.node_id or data.node_id).hex(),
                "pid": int(data.pid),
                "resources": {str(k): float(v) for k, v in data.required_resources.items()},
            }
        )
    return out


def kill_actor(actor_id: str, no_restart: bool = True) -> None:
    """`ray.kill` by actor id (hex): what `ray.kill(handle)` does with the handle's id.
    ValueError for a malformed id."""
    import importlib

    raylet: Any = importlib.import_module("ray._raylet")
    actor = raylet.ActorID.from_hex(actor_id)
    worker: Any = ray._private.worker.global_worker
    worker.core_worker.kill_actor(actor, no_restart)


def divert_driver_messages(write: Callable[..., None]) -> None:
    """Send the driver's cluster-event printing ("node ... marked dead") to `write`."""
    ray._private.worker.print_to_stdstream = write


def drain_node(node_id: str, message: str, deadline_ms: int = 0) -> tuple[bool, str]:
    """Ask the GCS to drain a node, as `ray drain-node --reason DRAIN_NODE_REASON_PREEMPTION`
    does: Ray schedules nothing new there until the raylet restarts. (accepted, Ray's
    reason when not). Ray has no call that undoes it."""
    import importlib

    raylet: Any = importlib.import_module("ray._raylet")
    reasons: Any = importlib.import_module("ray.core.generated.autoscaler_pb2").DrainNodeReason
    client = raylet.GcsClient(address=ray.get_runtime_context().gcs_address)
    reason = reasons.Value("DRAIN_NODE_REASON_PREEMPTION")
    accepted, why = client.drain_node(node_id, reason, message, deadline_ms)
    return bool(accepted), str(why or "")


def reload_auth() -> None:
    """Make Ray re-read RAY_AUTH_MODE and the token file before the next ray.init: both are
    cached from the first connect, so a process that drove one cluster would otherwise
    send that cluster's token (or none) to the next. Not while connected."""
    import importlib

    raylet: Any = importlib.import_module("ray._raylet")
    raylet.Config.initialize("")
    raylet.AuthenticationTokenLoader.instance().reset_cache()
