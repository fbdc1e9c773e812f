"""Server CPU with 10 SSE clients on GET /events (snapshots at 1 s), 100 simulated nodes fed
every second; the server is bench/api_latency.py's child process. Goal: under 5% of a core.
Run: .venv/bin/python bench/sse_cpu.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from _report import emit, quick_arg  # noqa: E402
from api_latency import ENV, NODES, start_server  # noqa: E402

CLIENTS = 10


async def listen(url: str, token: str, seconds: float, counts: list[int]) -> None:
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx.AsyncClient(base_url=url, headers=headers, timeout=None) as c,
        c.stream("GET", "/events") as r,
    ):
        end = time.monotonic() + seconds
        async for line in r.aiter_lines():
            if line.startswith("event: snapshot"):
                counts.append(1)
            if time.monotonic() > end:
                return


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20.0)
    quick_arg(ap)
    args = ap.parse_args()
    if args.quick:  # long enough for the clients' first snapshots
        args.seconds = 10.0
    os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="gridtui-bench-")
    # The server child's environment was taken when api_latency was imported: without
    # this, it read another token store and refused every client (0 snapshots, 0% CPU).
    ENV["XDG_STATE_HOME"] = os.environ["XDG_STATE_HOME"]
    sys.path.insert(0, str(ROOT))
    from gridtui.services.api_tokens import TokenStore

    token = TokenStore().create("read-only", "bench")[1]

    def measure(clients: int) -> tuple[float, int]:
        proc, url = start_server(NODES)
        try:
            server = psutil.Process(proc.pid)
            time.sleep(2)  # past start-up
            counts: list[int] = []

            async def run() -> float:
                tasks = [
                    asyncio.create_task(listen(url, token, args.seconds, counts))
                    for _ in range(clients)
                ]
                await asyncio.sleep(1)  # connected
                c0 = server.cpu_times()
                t0 = time.monotonic()
                if tasks:
                    await asyncio.gather(*tasks)
                else:
                    await asyncio.sleep(args.seconds - 1)
                c1 = server.cpu_times()
                used = (c1.user + c1.system) - (c0.user + c0.system)
                return 100 * used / (time.monotonic() - t0)

            return asyncio.run(run()), len(counts)
        finally:
            proc.terminate()
            proc.wait(10)

    idle, _ = measure(0)
    busy, snaps = measure(CLIENTS)
    if not snaps:
        raise SystemExit("sse_cpu: no snapshot reached a client (refused?): no figure")
    print(f"server CPU, {NODES} simulated nodes fed at 1 s, {args.seconds:g} s:")
    print(f"  no SSE client:   {idle:.1f}% of a core")
    print(f"  {CLIENTS} SSE clients: {busy:.1f}% of a core ({snaps} snapshots delivered)")
    print(f"  the clients' own cost: {busy - idle:.1f} points")
    emit(
        f"API server CPU, {CLIENTS} SSE clients at 1 s ({NODES} simulated nodes)",
        round(busy, 2),
        unit="% of a core",
        baseline=round(idle, 2),
        goal="< 5%",
        met=busy < 5,
        note=f"{snaps} snapshots delivered; baseline: no client",
    )


if __name__ == "__main__":
    main()
