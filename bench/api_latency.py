"""REST API latency: GET /nodes with 100 simulated nodes under 20 concurrent clients, beside
the CLI's `--json` (a process per answer). The server runs in its own process on loopback
(a real uvicorn), its hub fed synthetic agent samples for 100 nodes every second; no SSH and
no Ray, so the figure is the API's own cost. Goal: p99 under 20 ms.
Run: .venv/bin/python bench/api_latency.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

NODES = 100
CLIENTS = 20


def config(count: int) -> Any:
    from gridtui.config import ClusterConfig

    return ClusterConfig.model_validate(
        {
            "name": "sim100",
            "sample_interval": 1.0,
            "nodes": [
                {"name": f"n{i:03d}", "host": f"10.0.{i // 250}.{i % 250 + 1}",
                 "role": "head" if i == 0 else "worker"}
                for i in range(count)
            ],
        }
    )  # fmt: skip


def sample(rng: random.Random, seq: int) -> dict[str, Any]:
    cpu = rng.uniform(0, 100)
    return {
        "t": time.time(), "cpu": cpu, "cores": [cpu] * 8, "load": [1.0, 1.0, 1.0],
        "mem": {"total": 64 << 30, "used": rng.randint(1, 60) << 30},
        "swap": {"total": 0, "used": 0}, "disk": {"total": 1 << 40, "used": 1 << 39},
        "net": {"rx": seq * 1000, "tx": seq * 500}, "gpus": [], "ray": {"processes": 3},
    }  # fmt: skip


def server(count: int, sse_interval: float) -> None:
    """The child: a Backend of `count` simulated nodes behind a real uvicorn."""
    from api_harness import ThreadServer

    from gridtui.api.context import ApiContext
    from gridtui.api.events import EventHub
    from gridtui.backend import Backend
    from gridtui.services.tokens import TokenStore

    backend = Backend(config=config(count), streaming=False, ray=False)
    ctx = ApiContext(backend, TokenStore())
    ctx.events = EventHub(backend, interval=sse_interval)
    rng = random.Random(1)
    with ThreadServer(ctx) as s:

        def feed(seq: int) -> None:
            for name in backend.metrics.node_names():
                backend.metrics.record(name, sample(rng, seq))

        print(json.dumps({"url": s.url, "pid": os.getpid()}), flush=True)
        seq = 0
        while True:
            s.call_soon(feed, seq)
            seq += 1
            time.sleep(1.0)


def start_server(count: int, sse_interval: float = 1.0) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(count), "--sse-interval", str(sse_interval)],
        stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )  # fmt: skip
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    return proc, str(info["url"])


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]


async def load(url: str, token: str, seconds: float) -> tuple[list[float], float]:
    import httpx

    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits) as c:
        assert len((await c.get("/nodes")).json()["nodes"]) == NODES
        end = time.monotonic() + seconds

        async def one() -> None:
            while time.monotonic() < end:
                t0 = time.perf_counter()
                r = await c.get("/nodes")
                latencies.append(time.perf_counter() - t0)
                assert r.status_code == 200

        t0 = time.monotonic()
        await asyncio.gather(*(one() for _ in range(CLIENTS)))
        return latencies, time.monotonic() - t0


def cli_json(runs: int) -> list[float]:
    """The CLI's `--json` per answer: a process each time (`token list --json`, which reads
    a local file only: the floor of any `gridtui ... --json`)."""
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "gridtui", "token", "list", "--json"],
            capture_output=True, check=True, env=dict(os.environ, PYTHONPATH=str(ROOT)),
        )  # fmt: skip
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--serve", type=int)
    ap.add_argument("--sse-interval", type=float, default=1.0)
    args = ap.parse_args()
    if args.serve:
        server(args.serve, args.sse_interval)
        return
    os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="gridtui-bench-")
    from gridtui.services.tokens import TokenStore

    token = TokenStore().create("read-only", "bench")[1]
    proc, url = start_server(NODES)
    try:
        lat, wall = asyncio.run(load(url, token, args.seconds))
    finally:
        proc.terminate()
        proc.wait(10)
    cli = cli_json(10)
    ms = [x * 1000 for x in lat]
    print(f"GET /nodes, {NODES} simulated nodes, {CLIENTS} concurrent clients, {wall:.1f} s:")
    print(f"  p50 {pct(ms, 50):.1f} ms  p99 {pct(ms, 99):.1f} ms  {len(ms) / wall:.0f} req/s")
    cms = [x * 1000 for x in cli]
    print(f"CLI `gridtui token list --json` (process per answer, {len(cms)} runs):")
    print(f"  p50 {statistics.median(cms):.0f} ms  {1000 / statistics.mean(cms):.1f} answers/s")
    print(f"ratio CLI p50 / API p50: {statistics.median(cms) / pct(ms, 50):.0f}x")


if __name__ == "__main__":
    main()
