"""What needs the Ray driver (run on its thread): per-node free resources, removing a
group, killing an actor, and where a job pinned to a node or a boost goes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gridtui.config import ClusterConfig
from gridtui.model.ray import match_nodes
from gridtui.services.control.client import NotFound, Refused


def node_entries(config: ClusterConfig) -> dict[str, Mapping[str, Any]]:
    """{node name: entry with total, available, alive, address} from Ray's GCS."""
    import ray

    from gridtui.actors import ray_private
    from gridtui.agent.nodescript import ray_view

    return dict(match_nodes(config, ray_view(ray_private.global_state(), nodes=ray.nodes())))


def remove_group(gid: str) -> None:
    import ray
    from ray.util.placement_group import PlacementGroup, remove_placement_group

    try:
        group_id = ray.PlacementGroupID.from_hex(gid)
    except Exception:
        raise NotFound(f"{gid!r} is not a placement group id") from None
    remove_placement_group(PlacementGroup(group_id))


def kill_actor(actor_id: str, name: str = "", namespace: str = "") -> None:
    """Kill an actor through Ray's public calls: a named one by its name and namespace
    (`ray.get_actor`, then `ray.kill`). Ray kills an unnamed actor only from its owner
    (Ray 2.60 refuses a kill by id from any other driver), so that is refused, said plainly."""
    if not name:
        raise Refused(
            f"actor {actor_id[:12]} has no name: Ray lets only its owner (the driver that "
            "created it) kill it"
        )
    import ray

    try:
        handle = ray.get_actor(name, namespace=namespace or None)
    except ValueError:
        raise NotFound(f"no live actor named {name!r} in namespace {namespace!r}") from None
    ray.kill(handle, no_restart=True)
