"""`gridtui offload auto|events|watch`: auto-offload, run by the cluster's controller."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from gridtui.backend.checks import check_sustain, check_thresholds
from gridtui.commands.boost_cmd import add_common, facade, with_controller
from gridtui.commands.running import run
from gridtui.errors import BadOffloadFlag
from gridtui.model.still_running import StillRunning

if TYPE_CHECKING:
    from gridtui.backend import ControlClient

FOLLOW_POLL = 1.0
FOLLOW_FOREVER = 365 * 86400.0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("offload", help="move work off busy nodes automatically")
    inner = parser.add_subparsers(dest="offload_command", required=True)
    p = inner.add_parser("auto", help="turn auto-offload on or off, or show it")
    mode = p.add_mutually_exclusive_group()  # neither: --status
    mode.add_argument("--enable", action="store_true", help="turn it on")
    mode.add_argument("--disable", action="store_true", help="turn it off (lifts every fence)")
    mode.add_argument("--status", action="store_true", help="show the running policy (default)")
    p.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="[RESOURCE=]PERCENT",
        help="cpu=80, memory=65, gpu=90 (repeatable); a bare 70 is memory's",
    )
    p.add_argument("--sustain", help="how long above a threshold before acting: 10s, 1m")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="decide and record, act on nothing (with --disable: kept for the next enable "
        "from the console)",
    )
    add_common(p)
    p.set_defaults(func=auto_command)
    p = inner.add_parser("events", help="what auto-offload did and why")
    p.add_argument("--follow", action="store_true", help="keep printing new events")
    add_common(p)
    p.set_defaults(func=events_command)
    p = inner.add_parser("watch", help="open the console on the Offload view")
    # The CLI's entry point opens the console when it sees console_view (commands never
    # import the console).
    add_common(p, json_flag=False)
    p.set_defaults(func=watch_command, console_view="offload")


def watch_command(args: argparse.Namespace) -> int:
    """The cluster file checked as every command checks it (a bad one: exit 2, before any
    screen); cli.main then opens the console on the Offload view (with no file, the demo's)."""
    from gridtui.config import find_config, load_config

    path = find_config(getattr(args, "config", None))
    if path is not None:
        load_config(path)
    return 0


def auto_command(args: argparse.Namespace) -> int:
    thresholds = check_thresholds(args.threshold)
    sustain = None if args.sustain is None else check_sustain(args.sustain)
    args.status = not (args.enable or args.disable)
    if args.status and (thresholds or sustain is not None or args.dry_run):
        raise BadOffloadFlag(
            "--threshold, --sustain and --dry-run go with --enable (--status shows only)"
        )
    if args.disable and (thresholds or sustain is not None):
        raise BadOffloadFlag("--disable takes no --threshold or --sustain")
    grid = facade(args).lookup()
    if args.status:
        status = run(grid.offload_status())
    else:
        status = run(grid.offload_set(args.enable, thresholds, sustain, dry_run=args.dry_run))
    if args.json:
        print(json.dumps(status, indent=2))
    else:
        print(describe(status))
    return 0


def describe(data: Mapping[str, Any]) -> str:
    """The policy as `--status --json` gives it (the facade's offload_status), in words."""
    state = "on" + (" (dry run)" if data["dry_run"] else "") if data["enabled"] else "off"
    limits = ", ".join(
        f"{r} {v:g}% for {data['sustain'][r]:g}s" for r, v in data["thresholds"].items()
    )
    lines = [
        f"auto-offload {state}: {limits}",
        f"hysteresis {data['hysteresis']:g} points, cooldown {data['cooldown']:g}s; "
        f"watching {', '.join(data['watched'])}",
    ]
    for change in data.get("changes", ()):
        lines.append(f"done: {change['message']}")
    if "fenced_unread" in data:  # done, but Ray's table could not be read after it
        held = ", ".join(data["fenced"]) or "none"
        lines.append(f"fenced (the engine's own list: {data['fenced_unread']}): {held}")
    elif "changes" in data:  # a change: what Ray holds once it is done, said either way
        lines.append(f"fenced (in Ray): {', '.join(data['fenced']) or 'none'}")
    elif data["fenced"]:
        lines.append(f"fenced: {', '.join(data['fenced'])}")
    for node, record in data["still_running"].items():
        still = StillRunning.from_record(record)
        lines.append(f"still running on {node} (Ray#41824: zero-CPU work is not kept off):")
        lines.extend(f"  {line}" for line in still.lines())
        if still.own:
            lines.append(f"  ({still.own_note()})")
    return "\n".join(lines)


def events_command(args: argparse.Namespace) -> int:
    grid = facade(args)
    if not args.follow:
        found = with_controller(grid, lambda c: c.offload_events(0), 30.0)
        show_events(found["events"], args.json)
        return 0

    def follow(c: ControlClient) -> None:
        seen = 0
        while True:
            found = c.offload_events(seen)
            show_events(found["events"], args.json)
            seen = max([seen, *(int(e["seq"]) for e in found["events"])])
            time.sleep(FOLLOW_POLL)

    with_controller(grid, follow, FOLLOW_FOREVER)
    return 0


def show_events(events: Sequence[Mapping[str, Any]], as_json: bool) -> None:
    for e in events:
        if as_json:
            print(json.dumps(e))
        else:
            stamp = time.strftime("%H:%M:%S", time.localtime(float(e["time"])))
            print(f"{stamp}  {e['message']}")
    sys.stdout.flush()
