"""`gridtui resource-sharing request|release|status`: reserve an amount where a strategy says."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from gridtui.commands.boost_cmd import (
    add_common,
    add_timeout,
    facade,
    left,
    release_command,
    say_waiting,
    status_command,
    with_service,
)
from gridtui.policy.scheduler import DEFAULT_STRATEGY, STRATEGIES

if TYPE_CHECKING:
    from gridtui.backend import ControlService


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "resource-sharing", help="reserve CPU, GPU or memory on the nodes a strategy picks"
    )
    inner = parser.add_subparsers(dest="sharing_command", required=True)
    p = inner.add_parser("request", help="reserve TYPE AMOUNT; prints its id, nodes and why")
    p.add_argument("type", help="cpu, gpu or memory")
    p.add_argument("amount", help="2, 0.5, 4GiB, 512MB")
    p.add_argument(
        "--strategy",
        default=DEFAULT_STRATEGY,
        help=f"{', '.join(STRATEGIES)} (default {DEFAULT_STRATEGY})",
    )
    p.add_argument("--ttl", help="release it after this long: 30m, 90s, 2h (default: never)")
    add_timeout(p)
    add_common(p)
    p.set_defaults(func=request_command)
    p = inner.add_parser("release", help="give a shared allocation back")
    p.add_argument("id")
    add_common(p, json_flag=False)
    p.set_defaults(func=release_command)
    p = inner.add_parser("status", help="every shared allocation and its state")
    p.add_argument("--history", action="store_true", help="include released ones")
    add_common(p)
    p.set_defaults(func=lambda a: status_command(a, "share"))


def request_command(args: argparse.Namespace) -> int:
    from gridtui.backend.checks import check_request, check_strategy_name, check_timeout
    from gridtui.model.reservations import format_amount

    request = check_request(args.type, args.amount, args.ttl)
    strategy = check_strategy_name(args.strategy)
    timeout = check_timeout(args.timeout)
    grid = facade(args).lookup()

    held: list[str] = []

    async def ask(svc: ControlService) -> int:
        share = await svc.share(request, strategy, timeout=timeout, waiting=say_waiting)
        held.append(share.id)
        if args.json:
            print(json.dumps(share.to_json()), flush=True)
        else:
            nodes = ", ".join(
                f"{b.node} ({format_amount(share.type, b.amount)})" for b in share.bundles
            )
            print(f"{share.id} on {nodes}")
            print(f"  {strategy}: {share.reason}", flush=True)
        return 0

    return with_service(grid, ask, left("resource-sharing", held))
