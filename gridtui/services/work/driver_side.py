"""What needs the Ray driver (run on its thread): per-node free resources, removing a
group, killing an actor, and where a job pinned to a node or a boost goes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gridtui.config import ClusterConfig
from gridtui.model.ray import match_nodes
from gridtui.services.control.client import NotFound


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


def kill_actor(actor_id: str) -> None:
    """Ray kills an actor through a handle, and offers none by id: the adapter does it."""
    from gridtui.actors import ray_private

    try:
        ray_private.kill_actor(actor_id)
    except ValueError as exc:
        # A malformed id, or (Ray 2.60) an actor this driver holds no handle to: Ray says which.
        why = (str(exc).strip().splitlines() or ["not an actor id"])[0][:200]
        raise NotFound(f"Ray did not kill actor {actor_id!r}: {why}") from None
