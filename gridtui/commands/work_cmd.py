"""`gridtui work` (what runs where) and `gridtui why ID` (why something waits)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from gridtui.commands import options
from gridtui.commands.job_cmd import jobs_table, with_work

if TYPE_CHECKING:
    from gridtui.model.work import WorkItem, WorkSnapshot


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("work", help="every live actor and running task, by node")
    p.add_argument("--node", help="only this node")
    options.add_config(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=work_command)
    p = sub.add_parser("why", help="why a job, boost, share, placement group or task waits")
    p.add_argument("id")
    options.add_config(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=why_command)


def work_command(args: argparse.Namespace) -> int:
    from gridtui.backend.checks import check_node
    from gridtui.backend.headless import Headless

    if args.node is not None:
        grid = Headless(getattr(args, "config", None), announce=False)
        check_node(grid.config, args.node)
    snap = with_work(args, lambda svc: svc.snapshot_now(args.node))
    if args.json:
        print(json.dumps(snap.to_json(), indent=2))
    else:
        print(work_text(snap, args.node))
    return 0


def work_text(snap: WorkSnapshot, node: str | None = None) -> str:
    out = []
    jobs = [j for j in snap.jobs if not j.terminal and (node is None or j.node == node)]
    if jobs:
        out += ["jobs:", jobs_table(jobs), ""]
    for name, items in snap.by_node().items():
        if node is not None and name != node:
            continue
        out.append(f"{name}: " + (f"{len(items)} running" if items else "nothing running"))
        if items:
            out.append(items_table(items))
    own = [i for i in snap.own_items() if node is None or i.node == node]
    if own:
        out += ["", "gridtui's own actors:", items_table(own)]
    return "\n".join(out)


def items_table(items: Sequence[WorkItem]) -> str:
    rows = [["  KIND", "NAME", "STATE", "CPU", "GPU", "PID", "JOB", "ID"]]
    for i in items:
        name = f"{i.name} ({i.label})" if i.label and i.kind == "actor" else i.name
        rows.append(
            [f"  {i.kind}", name, i.state, f"{i.cpu:g}", f"{i.gpu:g}", str(i.pid or "-"),
             i.job_id or "-", i.id[:16]]
        )  # fmt: skip
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


def why_command(args: argparse.Namespace) -> int:
    why = with_work(args, lambda svc: svc.why(args.id))
    if args.json:
        print(json.dumps(why.to_json(), indent=2))
    else:
        print("\n".join(why.lines()))
    return 0
