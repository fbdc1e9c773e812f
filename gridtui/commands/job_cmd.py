"""`gridtui job submit|list|status|logs|stop`: Ray Jobs, placed by node, strategy or boost."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from gridtui.backend.headless import Headless
from gridtui.commands import options
from gridtui.commands.running import run
from gridtui.configvalues import Range
from gridtui.policy.job_request import MAX_CPU, MAX_GPU

if TYPE_CHECKING:
    from gridtui.backend import WorkService
    from gridtui.model.work import JobRow

T = TypeVar("T")
MEMORY = options.size(0, 1024**5)
CPU = Range(0, MAX_CPU, unit="CPU")
GPU = Range(0, MAX_GPU, unit="GPU")
SUBMIT_TIMEOUT = Range(0, 600, lo_open=True, unit="seconds")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("job", help="Ray Jobs: submit, list, status, logs, stop")
    inner = parser.add_subparsers(dest="job_command", required=True)
    p = inner.add_parser("submit", help="run COMMAND as a Ray job; prints its id last")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--node", help="run the entrypoint on this node")
    where.add_argument("--strategy", help="let gridtui's scheduler pick the node")
    p.add_argument("--cpu", type=options.number(CPU), help="CPU the entrypoint holds (default 0)")
    p.add_argument("--gpu", type=options.number(GPU), help="GPU the entrypoint holds (default 0)")
    p.add_argument("--memory", type=MEMORY, help="memory the entrypoint holds: 2GiB, 512MB")
    p.add_argument("--boost", help="run inside this boost of yours (its node, its group)")
    p.add_argument("--working-dir", type=options.path, help="a directory Ray uploads for it")
    p.add_argument("--env", action="append", default=[], metavar="K=V", help="an env variable")
    p.add_argument(
        "--timeout",
        type=options.number(SUBMIT_TIMEOUT),
        default=60.0,
        help="seconds for Ray to take it (more than 0, at most 600; default 60)",
    )
    _common(p)
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND...")
    p.set_defaults(func=submit_command)
    p = inner.add_parser("list", help="every job: id, status, node, entrypoint, resources")
    _common(p)
    p.set_defaults(func=list_command)
    p = inner.add_parser("status", help="one job")
    p.add_argument("id")
    _common(p)
    p.set_defaults(func=status_command)
    p = inner.add_parser("logs", help="a job's output")
    p.add_argument("id")
    p.add_argument("--follow", "-f", action="store_true", help="stream until the job ends")
    options.add_config(p)
    p.set_defaults(func=logs_command)
    p = inner.add_parser("stop", help="stop a job (its process ends)")
    p.add_argument("id")
    _common(p)
    p.set_defaults(func=stop_command)


def _common(p: argparse.ArgumentParser) -> None:
    options.add_config(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")


def with_work(
    args: argparse.Namespace,
    fn: Callable[[WorkService], Awaitable[T]],
    interrupted: Callable[[], str] | None = None,
) -> T:
    """Run `fn` with a WorkService for the cluster; its forward and driver (if one was
    needed) closed. Ctrl-C is exit 130, after one line saying what it left
    (`interrupted()`, asked once the work has stopped) for a command that changes
    something; a read says nothing."""
    grid = Headless(getattr(args, "config", None)).lookup()

    async def go() -> T:
        async with grid.work() as svc:
            return await fn(svc)

    try:
        return run(go())
    except KeyboardInterrupt:
        if interrupted is not None:
            print(f"gridtui: {interrupted()}", file=sys.stderr)
        raise


def submit_command(args: argparse.Namespace) -> int:
    from gridtui.backend.checks import check_job

    grid = Headless(getattr(args, "config", None))
    request = check_job(
        grid.config,
        list(args.command),
        node=args.node,
        strategy=args.strategy,
        cpu=args.cpu,
        gpu=args.gpu,
        memory=args.memory,
        boost=args.boost,
        working_dir=args.working_dir,
        env=args.env,
    )
    owner = grid.owner()
    sid = grid.new_submission_id()
    left = {sid: "nothing was submitted"}

    async def go(svc: WorkService) -> JobRow:
        try:
            return await svc.submit_request(request, owner=owner, timeout=args.timeout, sid=sid)
        finally:
            left.update(svc.withdrawn)

    job = with_work(args, go, lambda: f"job submission interrupted; {left[sid]}")
    if args.json:
        print(json.dumps(job.to_json()))
    else:
        where = f" on {job.node}" if job.node else ""
        print(f"submitted: {job.status.lower()}{where}: {job.entrypoint}", file=sys.stderr)
        print(job.id)
    return 0


def list_command(args: argparse.Namespace) -> int:
    jobs = with_work(args, lambda svc: svc.jobs())
    if args.json:
        print(json.dumps([j.to_json() for j in jobs], indent=2))
    else:
        print(jobs_table(jobs))
    return 0


def status_command(args: argparse.Namespace) -> int:
    job = with_work(args, lambda svc: svc.job(args.id))
    if args.json:
        print(json.dumps(job.to_json()))
    else:
        print(jobs_table([job]))
        if job.message:
            print(job.message)
    return 0


def stop_command(args: argparse.Namespace) -> int:
    job, stopped = with_work(
        args,
        lambda svc: svc.stop_job(args.id),
        lambda: (
            f"interrupted; the stop of {args.id} may have reached Ray "
            f"(`gridtui job status {args.id}`)"
        ),
    )
    if args.json:
        print(json.dumps(dict(job.to_json(), was_running=stopped)))
    elif stopped:
        print(f"stopping {job.id} ({job.status.lower()})")
    else:
        print(f"{job.id} had already ended ({job.status.lower()})")
    return 0


def logs_command(args: argparse.Namespace) -> int:
    if not args.follow:
        text = with_work(args, lambda svc: svc.logs(args.id))
        sys.stdout.write(text)
        return 0
    stop = threading.Event()

    async def go(svc: WorkService) -> None:
        job = await svc.job(args.id)  # an unknown id: one line, before any streaming

        def pump() -> None:
            for chunk in svc.follow(job, stop):
                sys.stdout.write(chunk)
                sys.stdout.flush()

        try:
            await asyncio.to_thread(pump)
        finally:
            stop.set()

    with_work(args, go)
    return 0


def jobs_table(rows: Sequence[JobRow]) -> str:
    from gridtui.policy.why import show_all

    if not rows:
        return "no jobs (gridtui job submit -- COMMAND runs one)"
    lines = [["ID", "STATUS", "NODE", "RESOURCES", "START", "END", "ENTRYPOINT"]]
    for j in rows:
        lines.append(
            [
                j.id,
                j.status,
                j.node or "-",
                show_all(
                    {k: v for k, v in j.resources.items() if not k.startswith("node:")}
                ).replace("nothing", "-"),
                _clock(j.start),
                _clock(j.end),
                j.entrypoint if len(j.entrypoint) <= 60 else j.entrypoint[:59] + "…",
            ]
        )
    widths = [max(len(r[i]) for r in lines) for i in range(len(lines[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in lines
    )


def _clock(t: float | None) -> str:
    return time.strftime("%H:%M:%S", time.localtime(t)) if t else "-"
