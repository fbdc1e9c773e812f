"""`gridtui node drain|undrain NODE`: take a node out of service for maintenance, and back."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from gridtui.commands.boost_cmd import add_common, with_controller
from gridtui.commands.lookup import find_cluster

if TYPE_CHECKING:
    from gridtui.config import ClusterConfig

# Moving a node's stored objects may take minutes (one at a time, shard to shard).
DRAIN_TIMEOUT = 660.0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("node", help="drain a node for maintenance, or undrain it")
    inner = parser.add_subparsers(dest="node_command", required=True)
    p = inner.add_parser(
        "drain", help="fence NODE, move its stored objects off, then Ray's own drain"
    )
    p.add_argument("node", help="a worker of the cluster file")
    add_common(p)
    p.set_defaults(func=drain_command)
    p = inner.add_parser("undrain", help="lift the drain's fence (Ray's drain stays: see docs)")
    p.add_argument("node", help="a drained node")
    add_common(p)
    p.set_defaults(func=undrain_command)


def check_worker(config: ClusterConfig, node: str) -> None:
    """An unknown node or the head is bad usage (exit 2): nothing is sent to the cluster."""
    from gridtui.services.control import BadRequest, check_node

    check_node(config, node)
    if node == config.head.name:
        raise BadRequest(f"{node} is the head: it cannot be drained (only workers can)")


def drain_command(args: argparse.Namespace) -> int:
    cluster = find_cluster(getattr(args, "config", None))
    check_worker(cluster.config, args.node)
    done = with_controller(cluster, lambda c: c.node_drain(args.node), DRAIN_TIMEOUT)
    show(done, args.json, f"drained {args.node}")
    return 0


def undrain_command(args: argparse.Namespace) -> int:
    from gridtui.services.control import check_node

    cluster = find_cluster(getattr(args, "config", None))
    check_node(cluster.config, args.node)
    done = with_controller(cluster, lambda c: c.node_undrain(args.node), 30.0)
    show(done, args.json, f"undrained {args.node}")
    return 0


def show(done: dict[str, Any], as_json: bool, title: str) -> None:
    if as_json:
        print(json.dumps(done))
        return
    print(title)
    for step in ("fence", "spill", "ray"):
        if step in done:
            print(f"  {step}: {done[step]}")
