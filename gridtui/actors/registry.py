"""Where gridtui's actors live: their names, namespace, lifetime and resources; every
one of them is created and found here, and nowhere else.

Each start takes the actor's class from its caller: the controller and the memory host
are started by clients, shards and samplers by those actors on nodes that may have only
Python and Ray (the class travelled with them, pickled by value), and this module imports
none of them, so none imports itself through it."""

from __future__ import annotations

from typing import Any

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from gridtui.actors.memory_shard import SHARD_PREFIX, shard_name
from gridtui.model.actor_names import CONTROLLER_NAME, INDEX_NAME, NAMESPACE, SAMPLER_PREFIX

__all__ = ["CONTROLLER_NAME", "INDEX_NAME", "NAMESPACE", "SAMPLER_PREFIX", "SHARD_PREFIX"]
# Below the head's smallest unit: pins to the head without taking anything from it.
HEAD_ONLY = {"node:__internal_head__": 0.001}


def find(name: str) -> Any | None:
    """The named actor of gridtui's namespace, or None when it does not run."""
    try:
        return ray.get_actor(name, namespace=NAMESPACE)
    except ValueError:
        return None


def find_controller() -> Any | None:
    return find(CONTROLLER_NAME)


def find_memory_host() -> Any | None:
    return find(INDEX_NAME)


def find_shard(node_id: str) -> Any | None:
    return find(shard_name(node_id))


def start_controller(controller: type[Any], version: str, head_node_id: str) -> Any:
    """The controller on the head (or the one running under its name): detached, restarted
    by Ray when it dies, 16 calls at a time (none of them waits on Ray)."""
    return (
        ray.remote(controller)
        .options(
            name=CONTROLLER_NAME,
            namespace=NAMESPACE,
            lifetime="detached",
            get_if_exists=True,
            num_cpus=0,
            max_concurrency=16,
            max_restarts=-1,
            scheduling_strategy=NodeAffinitySchedulingStrategy(head_node_id, soft=False),
        )
        .remote(version)
    )


def start_memory_host(host: type[Any]) -> Any:
    """The memory index's host on the head (or the one running): an async actor."""
    return (
        ray.remote(host)
        .options(
            name=INDEX_NAME,
            namespace=NAMESPACE,
            lifetime="detached",
            get_if_exists=True,
            num_cpus=0,
            resources=HEAD_ONLY,
            max_restarts=-1,
            max_concurrency=256,
        )
        .remote()
    )


def start_shard(shard: type[Any], node_id: str, name: str) -> Any:
    """The shard of a node (`name` is the node's): never restarted, since a restarted
    shard would hold nothing and is better seen as dead."""
    return (
        ray.remote(shard)
        .options(
            name=shard_name(node_id),
            namespace=NAMESPACE,
            lifetime="detached",
            get_if_exists=True,
            num_cpus=0,
            max_concurrency=4,
            max_restarts=0,
            scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False),
        )
        .remote(node_id, name)
    )


def start_sampler(sampler: type[Any], name: str, node_id: str, *args: Any) -> Any:
    """Auto-offload's sampler pinned to a watched node; it ends with the controller."""
    return (
        ray.remote(sampler)
        .options(
            name=SAMPLER_PREFIX + name,
            namespace=NAMESPACE,
            get_if_exists=True,
            num_cpus=0,
            scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False),
        )
        .remote(*args)
    )
