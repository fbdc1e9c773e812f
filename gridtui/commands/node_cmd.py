"""`gridtui node drain|undrain NODE`: take a node out of service for maintenance, and back."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from gridtui.backend.checks import check_node, check_worker
from gridtui.commands.boost_cmd import add_common, facade, with_controller, with_service

if TYPE_CHECKING:
    from gridtui.backend import Cluster, ControlService


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("node", help="drain a node for maintenance, or undrain it")
    inner = parser.add_subparsers(dest="node_command", required=True)
    p = inner.add_parser(
        "drain", help="fence NODE, move its stored objects off, then Ray's own drain"
    )
    p.add_argument("node", help="a worker of the cluster file")
    add_common(p)
    p.set_defaults(func=drain_command)
    p = inner.add_parser(
        "undrain", help="lift the drain's fence (Ray's own drain cannot be undone: see docs)"
    )
    p.add_argument("node", help="a drained node")
    add_common(p)
    p.set_defaults(func=undrain_command)


def drain_command(args: argparse.Namespace) -> int:
    grid = facade(args)
    check_worker(grid.config, args.node)
    node = args.node
    finished: list[str] = []

    async def go(svc: ControlService) -> int:
        done = await svc.node_drain(node)
        finished.append(node)
        show(done, args.json, f"drained {node}")
        return 0

    def interrupted() -> str:
        if finished:
            return f"interrupted; {node} stays drained"
        return (
            f"drain of {node} interrupted: undone (fence lifted) unless it had reached "
            f"Ray's drain; `gridtui cluster status` says whether Ray drains {node}"
        )

    return with_service(grid, go, interrupted)


def undrain_command(args: argparse.Namespace) -> int:
    grid = facade(args)
    check_node(grid.config, args.node)
    done = with_controller(grid, lambda c: c.node_undrain(args.node), 30.0)
    show(done, args.json, f"undrained {args.node}")
    if not args.json and str(done.get("ray", "")).startswith(("kept", "gone")):
        advice = restart_advice(grid.cluster, args.node)
        print(f"  to use {args.node} again, restart Ray on it: {advice}")
    return 0


def restart_advice(cluster: Cluster, node: str) -> str:
    if cluster.demo:
        return "`gridtui demo stop`, then `gridtui demo start` (or x, then u, in the console)"
    return f"`gridtui cluster stop --node {node}`, then `gridtui cluster start`"


def show(done: dict[str, Any], as_json: bool, title: str) -> None:
    if as_json:
        print(json.dumps(done))
        return
    print(title)
    for step in ("fence", "spill", "ray"):
        if step in done:
            print(f"  {step}: {done[step]}")
