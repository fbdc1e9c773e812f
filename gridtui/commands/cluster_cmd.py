"""`gridtui cluster install|start|stop|status|logs`: Ray lifecycle from the command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from gridtui.config import ClusterConfig, ConfigError, find_config, load_config
from gridtui.errors import UserError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("cluster", help="install, start, stop and inspect the Ray cluster")
    inner = parser.add_subparsers(dest="cluster_command", required=True)

    def add(name: str, help: str, func: Any) -> argparse.ArgumentParser:
        p = inner.add_parser(name, help=help)
        p.add_argument("-c", "--config", default=argparse.SUPPRESS, help="the cluster file")
        p.add_argument("-q", "--quiet", action="store_true", help="no per-node progress")
        p.set_defaults(func=func)
        return p

    add("install", "create or reuse each node's env with this Ray and Python", install_command)
    p = add("start", "start the head, then every worker; confirm each joined", start_command)
    p.add_argument("--timeout", type=float, default=60.0, help="seconds for the head to answer")
    p.add_argument("--no-check", action="store_true", help="skip the version check")
    p = add("stop", "stop the cluster (or one node) by PID", stop_command)
    p.add_argument("--node", help="stop only this node")
    p.add_argument("--grace", type=float, default=5.0, help="seconds between SIGTERM and SIGKILL")
    p = add("status", "one table of SSH, Ray and resources; exit 1 if not healthy", status_command)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p = add("logs", "the tail of a node's Ray logs", logs_command)
    p.add_argument("--node", required=True)
    p.add_argument("-n", "--lines", type=int, default=40)


def load(args: argparse.Namespace) -> tuple[ClusterConfig, Path]:
    path = find_config(getattr(args, "config", None))
    if path is None:
        raise UserError(
            "no cluster file (-c FILE, $GRIDTUI_CONFIG, ./gridtui.yaml or "
            "~/.config/gridtui/cluster.yaml); `gridtui demo start` runs a local one"
        )
    try:
        return load_config(path), path
    except ConfigError as exc:
        raise UserError(
            exc.problems[0]
            + (
                f" (and {len(exc.problems) - 1} more; see `gridtui config check`)"
                if len(exc.problems) > 1
                else ""
            )
        ) from None


def printer(quiet: bool) -> Any:
    def show(event: Any) -> None:
        if quiet or (event.state == "running" and event.step != "start"):
            return
        detail = f"  {event.message}" if event.message else ""
        print(f"{event.node:<12} {event.step:<8} {event.state:<8}{detail}", file=sys.stderr)

    return show


def ops_for(args: argparse.Namespace, **kw: Any) -> Any:
    from gridtui.services.lifecycle import ClusterOps

    config, _ = load(args)
    return ClusterOps(config, progress=printer(getattr(args, "quiet", False)), **kw)


def install_command(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with ops_for(args) as ops:
            found = await ops.install()
        for v in found:
            print(f"{v.node}: Python {v.python}, Ray {v.ray} at {v.executable}")
        return 0

    return asyncio.run(go())


def start_command(args: argparse.Namespace) -> int:
    from gridtui.services.lifecycle import describe_failures

    async def go() -> int:
        async with ops_for(args, start_timeout=args.timeout) as ops:
            report = await ops.start(check=not args.no_check)
        if report.ok:
            print(
                f"cluster {ops.config.name}: {len(ops.config.nodes)} nodes in Ray "
                f"(started {len(report.started)}, already running "
                f"{len(report.already_running)})"
            )
            return 0
        print(
            f"cluster {ops.config.name}: {len(report.failed)} nodes did not join:", file=sys.stderr
        )
        for line in describe_failures(report):
            print("  " + line, file=sys.stderr)
        return 1

    return asyncio.run(go())


def stop_command(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with ops_for(args) as ops:
            results = await ops.stop(args.node, grace=args.grace)
        bad = [r for r in results if not r.ok]
        for r in bad:
            print(f"{r.node}: {r.error or f'{r.left} processes survived SIGKILL'}", file=sys.stderr)
        return 1 if bad else 0

    return asyncio.run(go())


def status_command(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with ops_for(args) as ops:
            ops.progress = lambda _e: None
            status = await ops.status()
        if args.json:
            print(json.dumps(status.to_json(), indent=2))
        else:
            print(status.table())
        return 0 if status.healthy else 1

    return asyncio.run(go())


def logs_command(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with ops_for(args) as ops:
            files = await ops.logs(args.node, args.lines)
        for name, lines in files.items():
            print(f"==> {name} <==")
            print("\n".join(lines))
        return 0

    return asyncio.run(go())
