"""`gridtui boost request|release|status|controller`: borrow resources on one chosen node."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from gridtui.backend.headless import Headless
from gridtui.commands.running import run

if TYPE_CHECKING:
    from gridtui.backend import ControlClient, ControllerInfo, ControlService
    from gridtui.model.reservations import Reservation

T = TypeVar("T")


def add_common(p: argparse.ArgumentParser, json_flag: bool = True) -> None:
    p.add_argument("-c", "--config", default=argparse.SUPPRESS, help="the cluster file")
    if json_flag:
        p.add_argument("--json", action="store_true", help="machine-readable output")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("boost", help="borrow CPU, GPU or memory on one node")
    inner = parser.add_subparsers(dest="boost_command", required=True)
    p = inner.add_parser("request", help="reserve TYPE AMOUNT on NODE; prints the boost's id")
    p.add_argument("node", help="a node of the cluster file")
    p.add_argument("type", help="cpu, gpu or memory")
    p.add_argument("amount", help="2, 0.5, 4GiB, 512MB")
    p.add_argument("--ttl", help="release it after this long: 30m, 90s, 2h (default: never)")
    add_timeout(p)
    add_common(p)
    p.set_defaults(func=request_command)
    p = inner.add_parser("release", help="give a boost back")
    p.add_argument("id")
    add_common(p, json_flag=False)
    p.set_defaults(func=release_command)
    p = inner.add_parser("status", help="every boost and its state")
    p.add_argument("--history", action="store_true", help="include released ones")
    add_common(p)
    p.set_defaults(func=lambda a: status_command(a, "boost"))
    p = inner.add_parser("controller", help="the cluster's controller: version, where, since")
    p.add_argument("--replace", action="store_true", help="swap it for this version's")
    add_common(p)
    p.set_defaults(func=controller_command)


def add_timeout(p: argparse.ArgumentParser) -> None:
    # Checked where a request enters the services (backend/checks.py), not by argparse.
    p.add_argument(
        "--timeout",
        default="30",
        help="seconds to wait for Ray to place it (more than 0, at most 3600; default 30)",
    )


def facade(args: argparse.Namespace) -> Headless:
    """The services for this command, on the cluster `-c` (or the lookup) names."""
    return Headless(getattr(args, "config", None))


def with_controller(grid: Headless, fn: Callable[[ControlClient], T], timeout: float) -> T:
    """Connect a driver, run `fn` with a ControlClient on the driver's thread, disconnect."""
    return run(grid.control(fn, timeout))


def with_service(
    grid: Headless, fn: Callable[[ControlService], Awaitable[int]], interrupted: Callable[[], str]
) -> int:
    """Connect a driver, run `fn` with the ControlService the console uses (its requests
    wait for Ray in short looks and are withdrawn if cut short), disconnect. Ctrl-C is
    exit 130 with one line saying what it left (`interrupted()`, asked after the cut)."""

    async def go() -> int:
        async with grid.reservations() as svc:
            return await fn(svc)

    try:
        return run(go())
    except KeyboardInterrupt:
        print(f"gridtui: {interrupted()}", file=sys.stderr)
        return 130


def left(kind: str, held: list[str]) -> Callable[[], str]:
    """What an interrupted request left: nothing, or the reservation it printed."""

    def say() -> str:
        if held:
            return f"interrupted; {held[0]} stays reserved (`gridtui {kind} release {held[0]}`)"
        return f"{kind} request interrupted; nothing was reserved"

    return say


def say_waiting(r: Reservation) -> None:
    """A request that waits says why, once per reason, on stderr."""
    print(f"gridtui: {r.id} is pending: {r.waiting}", file=sys.stderr, flush=True)


def request_command(args: argparse.Namespace) -> int:
    from gridtui.backend.checks import check_node, check_request, check_timeout

    request = check_request(args.type, args.amount, args.ttl)
    timeout = check_timeout(args.timeout)
    grid = facade(args)
    check_node(grid.config, args.node)

    held: list[str] = []

    async def ask(svc: ControlService) -> int:
        boost = await svc.boost(args.node, request, timeout=timeout, waiting=say_waiting)
        held.append(boost.id)  # printed before the driver's shutdown: Ctrl-C there keeps it
        print(json.dumps(boost.to_json()) if args.json else boost.id, flush=True)
        return 0

    return with_service(grid, ask, left("boost", held))


def release_command(args: argparse.Namespace) -> int:
    from gridtui.model.reservations import format_amount

    result = with_controller(facade(args), lambda c: c.release(args.id), 30.0)
    r = result.reservation
    what = f"{format_amount(r.type, r.amount)} on {r.node}"
    if result.already:
        print(f"{r.id} was already released ({what}; {r.note or r.state})")
    else:
        print(f"released {r.id} ({what})")
    return 0


def status_command(args: argparse.Namespace, kind: str) -> int:
    found = with_controller(facade(args), lambda c: c.reservations(history=args.history), 30.0)
    mine = [r for r in found if r.kind == kind]
    if args.json:
        print(json.dumps([r.to_json() for r in mine], indent=2))
    else:
        print(table(mine, kind))
    return 0


def table(rows: Sequence[Reservation], kind: str) -> str:
    from gridtui.model.reservations import format_amount
    from gridtui.policy.amounts import format_duration

    if not rows:
        return f"no {'boosts' if kind == 'boost' else 'shared allocations'}"
    now = time.time()
    lines: list[list[str]] = [["ID", "NODE", "TYPE", "AMOUNT", "STATE", "AGE", "TTL"]]
    for r in rows:
        left = r.ttl_left(now)
        lines.append(
            [
                r.id,
                r.node if kind == "boost" else _bundles(r),
                r.type,
                format_amount(r.type, r.amount),
                r.state,
                format_duration(now - r.created),
                "-" if left is None or not r.held else format_duration(left),
            ]
        )
    widths = [max(len(row[i]) for row in lines) for i in range(len(lines[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in lines
    )


def _bundles(r: Reservation) -> str:
    from gridtui.model.reservations import format_amount

    return ", ".join(f"{b.node} ({format_amount(r.type, b.amount)})" for b in r.bundles)


def controller_command(args: argparse.Namespace) -> int:
    from gridtui.policy.amounts import format_duration

    def work(c: ControlClient) -> ControllerInfo:
        return c.replace_controller() if args.replace else c.info()

    info = with_controller(facade(args), work, 30.0)
    data: dict[str, Any] = {
        "version": info.version,
        "pid": info.pid,
        "node_id": info.node_id,
        "started": info.started,
        "rebuilt": dict(info.rebuilt),
    }
    if args.json:
        print(json.dumps(data))
    else:
        rebuilt = ", ".join(f"{v} {k}" for k, v in info.rebuilt.items() if v) or "nothing"
        print(
            f"gridtui controller {info.version}: pid {info.pid} on node {info.node_id[:12]}, "
            f"up {format_duration(time.time() - info.started)}; rebuilt {rebuilt}"
        )
    return 0
