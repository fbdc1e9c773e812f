"""`gridtui demo start|status|stop|load`: the local three-node demo cluster."""

from __future__ import annotations

import argparse
import json
import sys

from gridtui.backend.headless import Headless
from gridtui.commands import options
from gridtui.commands.cluster_cmd import printer
from gridtui.commands.running import run
from gridtui.config import Range
from gridtui.errors import UsageError

# The documented ranges of `demo load` (docs/troubleshooting.md, `--help`).
LOAD_CPU = Range(0, 64, lo_open=True, unit="cores")
LOAD_SECONDS = Range(0, 3600, lo_open=True, unit="seconds")
LOAD_MEMORY = 8 * 1024**3


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("demo", help="the local demo cluster (head + 2 workers)")
    inner = parser.add_subparsers(dest="demo_command", required=True)
    p = inner.add_parser("start", help="start the demo cluster, or attach if it runs")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=start_command)
    p = inner.add_parser("status", help="the demo's status table; exit 1 if not healthy")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=status_command)
    p = inner.add_parser("stop", help="stop every demo process, by PID")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=stop_command)
    p = inner.add_parser("load", help="real load through Ray (or outside it) on one demo node")
    p.add_argument("--node", required=True, help="head, worker-1 or worker-2")
    p.add_argument(
        "--cpu", type=options.number(LOAD_CPU), default=1.0, help="busy cores (above 0 to 64)"
    )
    p.add_argument(
        "--memory",
        type=options.size(0, LOAD_MEMORY),
        default=0,
        help="memory to hold, e.g. 300MiB (up to 8GiB)",
    )
    p.add_argument(
        "--seconds",
        type=options.number(LOAD_SECONDS),
        default=30.0,
        help="how long (above 0 to 3600; default 30)",
    )
    p.add_argument(
        "--outside-ray",
        action="store_true",
        help="plain processes on the node's host that reserve nothing in Ray, as the "
        "owner's own work would (stopped by PID at the end or on Ctrl-C)",
    )
    p.set_defaults(func=load_command)


def start_command(args: argparse.Namespace) -> int:
    config = run(Headless.demo_start(printer(args.quiet)))
    address = f"{config.head.host}:{config.ray.port}"
    print(
        f"demo cluster up: GCS at {address}, {len(config.nodes)} nodes; `gridtui` opens the "
        f"console on it, `{Headless.ray_shell_prefix(config)}ray status --address {address}` "
        "shows Ray's own view"
    )
    return 0


def status_command(args: argparse.Namespace) -> int:
    status = run(Headless.demo_status())
    print(json.dumps(status.to_json(), indent=2) if args.json else status.table())
    return 0 if status.healthy else 1


def stop_command(args: argparse.Namespace) -> int:
    results = run(Headless.demo_stop(printer(args.quiet)))
    bad = [r for r in results if not r.ok]
    for r in bad:
        print(f"{r.node}: {r.error or 'processes survived SIGKILL'}", file=sys.stderr)
    return 1 if bad else 0


def load_command(args: argparse.Namespace) -> int:
    memory = args.memory
    config = Headless.demo_config()
    if args.node not in {n.name for n in config.nodes}:
        known = ", ".join(n.name for n in config.nodes)
        raise UsageError(f"unknown demo node {args.node!r} (known: {known})")
    if args.outside_ray:
        print(
            f"loading {args.node} outside Ray: {args.cpu:g} CPU, {memory} bytes, {args.seconds:g}s",
            file=sys.stderr,
        )
        pids = Headless.demo_load_outside(config, args.node, args.cpu, memory, args.seconds)
        print(f"{args.node}: {len(pids)} load processes ran outside Ray, stopped")
        return 0

    async def go() -> int:
        def connected() -> None:
            print(
                f"loading {args.node}: {args.cpu:g} CPU, {memory} bytes, {args.seconds:g}s",
                file=sys.stderr,
            )

        done = await Headless.demo_load(
            config, args.node, args.cpu, memory, args.seconds, connected=connected
        )
        print(f"{args.node}: {done} load tasks finished")
        return 0

    return run(go())
