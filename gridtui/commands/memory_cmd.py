"""`gridtui memory store|retrieve|list-objects|info|delete`: objects kept in cluster memory."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gridtui.backend.checks import check_key, check_node
from gridtui.backend.headless import Headless
from gridtui.commands import options
from gridtui.commands.running import run
from gridtui.configvalues import Range
from gridtui.errors import MemoryInputError
from gridtui.model.objects import (
    KEY_CHARS,
    KEY_MAX,
    StoredObject,
    TransferProgress,
    human_age,
    human_bytes,
)

if TYPE_CHECKING:
    from gridtui.backend import FileSink, MemoryService, Sink
    from gridtui.backend.headless import RayCall

# As the REST API's `replicas` query parameter.
REPLICAS = Range(1, 64, integer=True)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "memory",
        help="keep files and bytes in the cluster's memory by key",
        description=f"Keys: 1 to {KEY_MAX} of {KEY_CHARS}, starting with a letter or digit.",
    )
    parser.add_argument("-c", "--config", default=argparse.SUPPRESS, help="the cluster file")
    inner = parser.add_subparsers(dest="memory_command", required=True)

    def add(name: str, help: str, func: Any) -> argparse.ArgumentParser:
        p = inner.add_parser(name, help=help)
        p.add_argument("-c", "--config", default=argparse.SUPPRESS, help="the cluster file")
        p.set_defaults(func=func)
        return p

    p = add("store", "store a file (or standard input) under a key", store_command)
    p.add_argument("key")
    p.add_argument("file", help="the file to store, or - for standard input")
    p.add_argument("--node", help="the node to keep it on (default: the one with most room)")
    p.add_argument(
        "--replicas",
        type=options.number(REPLICAS),
        default=1,
        help="copies on distinct nodes (1 to 64; default 1)",
    )
    p.add_argument("--force", action="store_true", help="replace an existing key atomically")
    p.add_argument("--json", action="store_true")
    p = add("retrieve", "write an object's bytes to a file or standard output", retrieve_command)
    p.add_argument("key")
    p.add_argument("-o", "--output", help="the file to write, or - for standard output")
    p = add("list-objects", "every object: key, size, nodes, replicas, age, state", list_command)
    p.add_argument("--json", action="store_true")
    p = add("info", "one object's details", info_command)
    p.add_argument("key")
    p.add_argument("--json", action="store_true")
    p = add("delete", "delete an object and free its memory", delete_command)
    p.add_argument("key")


def facade(args: argparse.Namespace) -> Headless:
    return Headless(getattr(args, "config", None))


class ProgressLine:
    """A bar with the rate on stderr, only when stderr is a terminal, at most 10 times a second."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self.shown = False
        self._last = 0.0

    def __call__(self, p: TransferProgress) -> None:
        now = time.monotonic()
        if not self.enabled or now - self._last < 0.1:
            return
        self._last = now
        frac = p.fraction
        bar = pct = total = ""
        if frac is not None:
            filled = int(frac * 24)
            bar = "[" + "#" * filled + "." * (24 - filled) + "] "
            pct = f"{frac * 100:5.1f}% "
        if p.total is not None:
            total = f"/{human_bytes(p.total)}"
        rate = f"{human_bytes(p.rate)}/s"
        line = f"{p.direction} {p.key} {bar}{pct}{human_bytes(p.done)}{total} {rate}"
        print(f"\r{line[:200]}\x1b[K", end="", file=sys.stderr, flush=True)
        self.shown = True

    def close(self) -> None:
        if self.shown:
            print("\r\x1b[K", end="", file=sys.stderr, flush=True)


def _run(go: Callable[[], int], interrupted: Callable[[], str]) -> int:
    """Run the command; Ctrl-C at any moment is exit 130 with one line saying what it
    left (`interrupted` is asked after the work has stopped, so its answer is final)."""
    try:
        return go()
    except KeyboardInterrupt:
        print(f"gridtui: {interrupted()}", file=sys.stderr)
        return 130


def _summary(obj: StoredObject) -> str:
    where = ", ".join(obj.nodes) or "nowhere"
    copies = "1 replica" if obj.replicas == 1 else f"{obj.replicas} replicas"
    return f"{obj.key}: {human_bytes(obj.size)} on {where} ({copies}), sha256 {obj.sha256[:16]}"


def store_command(args: argparse.Namespace) -> int:
    grid = facade(args)
    memory = grid.memory()
    job: Any = None

    def go() -> int:
        nonlocal job
        # The key and the file are checked before the cluster is even reached; then the
        # node against the cluster file (an unknown one is bad usage, exit 2).
        job = memory.store_job(
            args.key, args.file, node=args.node, replicas=args.replicas, force=args.force
        )
        if args.node is not None:
            check_node(grid.config, args.node)
        return run(stored(grid))

    async def stored(grid: Headless) -> int:
        async with grid.memory_calls() as call:
            bar = ProgressLine()
            try:
                obj = await memory.run_async(call, job, progress=bar)
            finally:
                bar.close()
        if args.json:
            print(json.dumps(obj.to_json(), indent=2))
        else:
            print(f"stored {_summary(obj)}")
        return 0

    def left() -> str:
        if job is not None and job.committed:
            return f"store of {args.key!r} interrupted after it was complete: it is stored"
        return f"store of {args.key!r} interrupted; nothing was stored"

    return _run(go, left)


def retrieve_command(args: argparse.Namespace) -> int:
    grid = facade(args)
    memory = grid.memory()
    check_key(args.key)
    sink: Sink | None = None
    file: FileSink | None = None
    job: Any = None

    def go() -> int:
        nonlocal sink, file, job
        if args.output is None or args.output == "-":
            if args.output is None and sys.stdout.isatty():
                raise MemoryInputError(
                    "refusing to write binary data to a terminal: use -o FILE (or -o -), "
                    "or redirect standard output"
                )
            sink = grid.stream_sink(sys.stdout.buffer)
        else:
            # Opened now, before the cluster is reached: a path that cannot be written is
            # one line (exit 1); a FIFO waits here for its reader, as `cp` would.
            sink = file = grid.file_sink(args.output)
        job = memory.retrieve_job(args.key, sink)
        return run(retrieved())

    async def retrieved() -> int:
        async with grid.memory_calls() as call:
            bar = ProgressLine()
            try:
                obj = await memory.run_async(call, job, progress=bar)
            finally:
                bar.close()
        if file is not None:
            print(f"retrieved {_summary(obj)} -> {file.path}")
        return 0

    def left() -> str:
        said = f"retrieve of {args.key!r} interrupted"
        total = job.version.get("size") if job is not None else None
        if sink is not None and sink.complete:
            where = file.where if file is not None else "standard output"
            return f"{said} after it was complete: {where} has the whole object"
        if file is not None:
            return f"{said}; {file.left(total)}"
        if sink is not None and sink.written:
            return f"{said}; standard output got {sink.written} of {total} bytes"
        where = "" if args.output in (None, "-") else f" to {args.output}"
        return f"{said}; nothing was written{where}"

    return _run(go, left)


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)
    return "\n".join(line.rstrip() for line in lines)


def list_command(args: argparse.Namespace) -> int:
    grid = facade(args)

    async def go() -> int:
        async with grid.memory_calls() as call:
            snap = await grid.memory().snapshot_async(call)
        if args.json:
            out = {
                "objects": [o.to_json(snap.taken) for o in snap.objects],
                "nodes": [u.to_json() for u in snap.usage],
            }
            print(json.dumps(out, indent=2))
            return 0
        if not snap.objects:
            print("no objects: `gridtui memory store KEY FILE` stores one")
        else:
            rows = [["KEY", "SIZE", "NODES", "REPLICAS", "AGE", "STATE"]]
            for o in snap.objects:
                replicas = f"{len(o.nodes)}/{o.replicas}"
                nodes = ",".join(o.nodes) or "-"
                age = human_age(o.age(snap.taken))
                rows.append([o.key, human_bytes(o.size), nodes, replicas, age, o.state])
            print(_table(rows))
        if snap.usage:
            rows = [["NODE", "STORED", "RESERVED", "CAPACITY", "FREE"]]
            for u in snap.usage:
                name = u.node if u.alive else f"{u.node} (dead)"
                sizes = [u.used, u.reserved, u.capacity, u.free]
                rows.append([name, *(human_bytes(x) for x in sizes)])
            print()
            print(_table(rows))
        return 0

    return run(go())


def _with_service(args: argparse.Namespace, fn: Callable[[MemoryService, RayCall], Any]) -> Any:
    grid = facade(args)

    async def go() -> Any:
        async with grid.memory_calls() as call:
            return await fn(grid.memory(), call)

    return run(go())


def info_command(args: argparse.Namespace) -> int:
    check_key(args.key)
    obj: StoredObject = _with_service(args, lambda s, call: s.info_async(call, args.key))
    if args.json:
        print(json.dumps(obj.to_json(), indent=2))
        return 0
    fields = [
        ("key", obj.key),
        ("size", f"{obj.size} bytes ({human_bytes(obj.size)})"),
        ("state", obj.state),
        ("nodes", ", ".join(obj.nodes) or "-"),
        ("replicas", f"{len(obj.nodes)} of {obj.replicas}"),
        ("lost on", ", ".join(obj.lost_nodes) or "-"),
        ("sha256", obj.sha256),
        ("chunks", str(obj.chunks)),
        ("created", time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(obj.created))),
        ("last read", time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(obj.last_read))),
        ("age", human_age(obj.age())),
    ]
    for name, value in fields:
        print(f"{name + ':':<11}{value}")
    return 0


def delete_command(args: argparse.Namespace) -> int:
    check_key(args.key)
    obj: StoredObject = _with_service(args, lambda s, call: s.delete_async(call, args.key))
    print(f"deleted {obj.key} ({human_bytes(obj.size)})")
    return 0
