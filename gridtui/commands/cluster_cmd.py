"""`gridtui cluster install|start|stop|status|logs|rotate-token`: Ray's lifecycle, headless."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from gridtui.backend.headless import Headless
from gridtui.commands import options
from gridtui.commands.running import run
from gridtui.config import ClusterConfig, Range, find_config, load_config, require_config

# The documented ranges of the options (docs/troubleshooting.md, `--help`).
START_TIMEOUT = Range(1, 3600, unit="seconds")
GRACE = Range(0, 300, unit="seconds")
STATUS_TIMEOUT = Range(1, 600, unit="seconds")
LOG_LINES = Range(1, 10000, integer=True)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("cluster", help="install, start, stop and inspect the Ray cluster")
    inner = parser.add_subparsers(dest="cluster_command", required=True)

    def add(name: str, help: str, func: Any) -> argparse.ArgumentParser:
        p = inner.add_parser(name, help=help)
        options.add_config(p)
        p.add_argument("-q", "--quiet", action="store_true", help="no per-node progress")
        p.set_defaults(func=func)
        return p

    add("install", "create or reuse each node's env with this Ray and Python", install_command)
    p = add("start", "start the head, then every worker; confirm each joined", start_command)
    p.add_argument(
        "--timeout",
        type=options.number(START_TIMEOUT),
        default=60.0,
        help="seconds for the head to answer (1 to 3600; default 60)",
    )
    p.add_argument("--no-check", action="store_true", help="skip the version check")
    p = add(
        "rotate-token",
        "a new Ray token, then Ray restarted on every node with it (running work is lost)",
        rotate_command,
    )
    p.add_argument(
        "--timeout",
        type=options.number(START_TIMEOUT),
        default=60.0,
        help="seconds for the head to answer (1 to 3600; default 60)",
    )
    p.add_argument("--no-check", action="store_true", help="skip the version check")
    p = add("stop", "stop the cluster (or one node) by PID", stop_command)
    p.add_argument("--node", help="stop only this node")
    p.add_argument(
        "--grace",
        type=options.number(GRACE),
        default=5.0,
        help="seconds between SIGTERM and SIGKILL (0 to 300; default 5)",
    )
    p = add("status", "one table of SSH, Ray and resources; exit 1 if not healthy", status_command)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--timeout",
        type=options.number(STATUS_TIMEOUT),
        default=None,
        help="seconds to wait for all nodes in all (1 to 600; default 20): "
        "nodes silent by then are reported as timed out",
    )
    p = add("logs", "the tail of a node's Ray logs", logs_command)
    p.add_argument("--node", required=True)
    p.add_argument(
        "-n",
        "--lines",
        type=options.number(LOG_LINES),
        default=40,
        help="lines per log file (1 to 10000; default 40)",
    )


def load(args: argparse.Namespace) -> tuple[ClusterConfig, Path]:
    """The cluster file: a missing or bad one is a ConfigError (exit 2, one line each)."""
    path = require_config(getattr(args, "config", None))
    return load_config(path), path


def printer(quiet: bool) -> Any:
    def show(event: Any) -> None:
        if quiet or (event.state == "running" and event.step != "start"):
            return
        detail = f"  {event.message}" if event.message else ""
        print(f"{event.node:<12} {event.step:<8} {event.state:<8}{detail}", file=sys.stderr)

    return show


def ops_for(args: argparse.Namespace, *, demo_ok: bool = False, **kw: Any) -> Any:
    """ClusterOps on the cluster file; with `demo_ok` and no file at all, on the running
    demo (said on stderr), as the boost and memory commands do."""
    if demo_ok and find_config(getattr(args, "config", None)) is None:
        config = Headless().config  # the demo, or the usual no-file error (exit 2)
    else:
        config, _ = load(args)
    return Headless.ops(config, printer(getattr(args, "quiet", False)), **kw)


def install_command(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with ops_for(args) as ops:
            found = await ops.install()
        for v in found:
            print(f"{v.node}: Python {v.python}, Ray {v.ray} at {v.executable}")
        return 0

    return run(go())


def start_command(args: argparse.Namespace) -> int:
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
        for line in Headless.start_failures(report):
            print("  " + line, file=sys.stderr)
        return 1

    return run(go())


def rotate_command(args: argparse.Namespace) -> int:
    """The demo when there is no cluster file (as `status`), else the file's cluster."""

    async def go() -> int:
        async with ops_for(args, demo_ok=True, start_timeout=args.timeout) as ops:
            if ops.config.demo:
                await Headless.demo_rotate_token(ops.progress)
                failed: list[str] = []
            else:
                report = await ops.rotate_token(check=not args.no_check)
                failed = Headless.start_failures(report)
        path = Headless.ray_token_file(ops.config)
        if failed:
            print(
                f"cluster {ops.config.name}: new Ray token in {path}; some nodes did not join:",
                file=sys.stderr,
            )
            for line in failed:
                print("  " + line, file=sys.stderr)
            return 1
        print(
            f"cluster {ops.config.name}: new Ray token in {path}; Ray restarted on "
            f"{len(ops.config.nodes)} nodes with it (the old token is refused)"
        )
        return 0

    return run(go())


def stop_command(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with ops_for(args) as ops:
            results = await ops.stop(args.node, grace=args.grace)
        bad = [r for r in results if not r.ok]
        for r in bad:
            print(f"{r.node}: {r.error or f'{r.left} processes survived SIGKILL'}", file=sys.stderr)
        return 1 if bad else 0

    return run(go())


def status_command(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with ops_for(args, demo_ok=True) as ops:
            ops.progress = lambda _e: None
            status = await ops.status(args.timeout or Headless.status_deadline())
        if args.json:
            print(json.dumps(status.to_json(), indent=2))
        else:
            print(status.table())
        return 0 if status.healthy else 1

    return run(go())


def logs_command(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with ops_for(args) as ops:
            files = await ops.logs(args.node, args.lines)
        for name, lines in files.items():
            print(f"==> {name} <==")
            print("\n".join(lines))
        return 0

    return run(go())
