"""`gridtui groups [--orphans]` and `gridtui groups remove ID`: every placement group, its owner."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from gridtui.commands import options
from gridtui.commands.job_cmd import with_work

if TYPE_CHECKING:
    from gridtui.model.work import GroupRow


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("groups", help="placement groups: owner, state, nodes, bundles, age")
    p.add_argument("--orphans", action="store_true", help="only detached groups nobody holds")
    options.add_config(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=groups_command)
    inner = p.add_subparsers(dest="groups_command")
    r = inner.add_parser("remove", help="remove a placement group (not gridtui's own)")
    r.add_argument("id")
    r.add_argument("--force", action="store_true", help="even a boost's, share's or fence's")
    options.add_config(r)
    r.set_defaults(func=remove_command)


def groups_command(args: argparse.Namespace) -> int:
    rows = with_work(args, lambda svc: svc.groups(orphans=args.orphans))
    if args.json:
        print(json.dumps([g.to_json() for g in rows], indent=2))
    else:
        print(groups_table(rows, args.orphans))
    return 0


def remove_command(args: argparse.Namespace) -> int:
    group = with_work(
        args,
        lambda svc: svc.remove_group(args.id, force=args.force),
        lambda: f"interrupted; {args.id} may have been removed (`gridtui groups`)",
    )
    print(f"removed {group.id} ({group.name or 'unnamed'}, {group.owner})")
    return 0


def groups_table(rows: Sequence[GroupRow], orphans: bool = False) -> str:
    from gridtui.policy.amounts import format_duration
    from gridtui.policy.why import show_all

    if not rows:
        return "no orphaned groups" if orphans else "no placement groups"
    now = time.time()
    lines = [["ID", "NAME", "OWNER", "STATE", "NODES", "BUNDLES", "AGE"]]
    for g in rows:
        owner = f"{g.owner} {g.owner_id}".strip() + (" (orphan)" if g.orphan else "")
        lines.append(
            [
                g.id,
                g.name or "-",
                owner,
                g.state,
                ",".join(g.nodes) or "-",
                "; ".join(show_all(b.resources) for b in g.bundles),
                format_duration(now - g.created) if g.created else "-",
            ]
        )
    widths = [max(len(r[i]) for r in lines) for i in range(len(lines[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in lines
    )
