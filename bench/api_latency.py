"""REST API latency, two figures on 100 simulated nodes.

1. GET /nodes under 20 concurrent keep-alive clients: p50, p99, requests/s and the server's
   CPU per request. The server runs in its own process (a real uvicorn on loopback), its
   hub fed synthetic agent samples for 100 nodes every second (no SSH, no Ray: the API's
   own cost). The load comes from a minimal HTTP/1.1 client on asyncio streams in this
   process: httpx spends more CPU per request than the server does, on the same 2 cores.
   Goal: p99 under 20 ms.
2. The same data through both fronts: GET /cluster on a real `gridtui serve` beside
   `gridtui cluster status --json` (a process per answer), on 100 simulated SSH nodes
   (in-process SSH servers answering the agent command with synthetic samples and running
   every other command for real: each status runs the node script on all 100).
Run: .venv/bin/python bench/api_latency.py [--seconds 10] [--status-runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
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
sys.path.insert(0, str(ROOT / "tests" / "integration"))  # sshd, the in-process SSH servers
sys.path.insert(0, str(ROOT / "bench"))  # fanout.cluster_yaml

from _report import emit, quick_arg  # noqa: E402

NODES = 100
CLIENTS = 20
ADDRESSES = [f"127.0.0.{i}" for i in range(2, 12)]
ENV = dict(os.environ, PYTHONPATH=str(ROOT))


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


def server(count: int, sse_interval: float, http: str = "auto") -> None:
    """The child: a Backend of `count` simulated nodes behind a real uvicorn."""
    from api_harness import ThreadServer

    from gridtui.api.context import ApiContext
    from gridtui.api.events import EventHub
    from gridtui.backend import Backend
    from gridtui.services.api_tokens import TokenStore

    backend = Backend(config=config(count), streaming=False, ray=False)
    ctx = ApiContext(backend, TokenStore())
    ctx.events = EventHub(backend, interval=sse_interval)
    rng = random.Random(1)
    with ThreadServer(ctx, http=http) as s:

        def feed(seq: int) -> None:
            for name in backend.metrics.node_names():
                backend.metrics.record(name, sample(rng, seq))

        print(json.dumps({"url": s.url, "pid": os.getpid()}), flush=True)
        seq = 0
        while True:
            s.call_soon(feed, seq)
            seq += 1
            time.sleep(1.0)


def start_server(
    count: int, sse_interval: float = 1.0, http: str = "auto"
) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(count), "--sse-interval", str(sse_interval),
         "--http", http],
        stdout=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    return proc, str(info["url"])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]


async def get(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    """One request on a kept connection: its status and body (Content-Length framed)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return status, await reader.readexactly(length)


async def load(
    url: str, token: str, seconds: float, *, compressed: bool = False
) -> tuple[list[float], float]:
    host, port = url.removeprefix("http://").split(":")
    accept = "Accept-Encoding: gzip\r\n" if compressed else ""
    request = (
        f"GET /nodes HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n{accept}\r\n"
    ).encode()
    latencies: list[float] = []
    conns = [await asyncio.open_connection(host, int(port)) for _ in range(CLIENTS)]
    status, body = await get(*conns[0], request)
    if compressed:
        body = gzip.decompress(body)
    assert status == 200 and len(json.loads(body)["nodes"]) == NODES, status
    end = time.monotonic() + seconds

    async def one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while time.monotonic() < end:
            t0 = time.perf_counter()
            status, _ = await get(reader, writer, request)
            latencies.append(time.perf_counter() - t0)
            assert status == 200, status

    t0 = time.monotonic()
    await asyncio.gather(*(one(*c) for c in conns))
    wall = time.monotonic() - t0
    for _, writer in conns:
        writer.close()
    return latencies, wall


# -- GET /cluster and `gridtui cluster status --json` on 100 simulated SSH nodes ------------


async def fake_agent(process: Any) -> None:
    """The agent command's answer: its source read to EOF, then a synthetic sample a second."""
    import asyncssh

    await process.stdin.read()
    rng, seq = random.Random(), 0
    try:
        while True:
            line = dict(sample(rng, seq), v=1, seq=seq, host="sim")
            process.stdout.write((json.dumps(line) + "\n").encode())
            seq += 1
            await asyncio.sleep(1.0)
    except (OSError, asyncssh.Error):
        pass
    finally:
        process.exit(0)


async def ssh_servers(count: int, workdir: Path) -> None:
    """The child: `count` SSH servers; the agent is simulated, every other command is run."""
    import sshd

    cluster = sshd.SshCluster(workdir, [ADDRESSES[i % len(ADDRESSES)] for i in range(count)])
    tasks: set[asyncio.Task[None]] = set()
    for server in cluster.servers:

        def session(process: Any, real: Any = server._session) -> None:
            if "--interval" in (process.command or ""):
                task = asyncio.ensure_future(fake_agent(process))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            else:
                real(process)

        server._session = session  # type: ignore[method-assign]
    await cluster.start()
    info = {
        "servers": [[s.host, s.port] for s in cluster.servers],
        "identity": str(cluster.identity),
        "known_hosts": str(cluster.known_hosts),
    }
    print(json.dumps(info), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await cluster.stop()


def status_side_by_side(runs: int, token: str) -> tuple[list[float], list[float], int]:
    """Seconds per answer: GET /cluster on a running `gridtui serve`, then the CLI's process."""
    import re

    import httpx
    from fanout import cluster_yaml

    work = Path(tempfile.mkdtemp(prefix="gridtui-bench-status-"))
    servers = subprocess.Popen(
        [sys.executable, __file__, "--ssh-servers", str(NODES), "--workdir", str(work)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    assert servers.stdout is not None and servers.stdin is not None
    path = work / "sim100.yaml"
    path.write_text(cluster_yaml(json.loads(servers.stdout.readline()), 1.0, name="sim100"))
    base = [sys.executable, "-m", "gridtui", "-c", str(path)]
    serve = subprocess.Popen(
        [*base, "serve", "--port", "0"], stderr=subprocess.PIPE, text=True, env=ENV
    )
    try:
        assert serve.stderr is not None
        while not (found := re.search(r"on (http://\S+) ", serve.stderr.readline())):
            assert serve.poll() is None, "gridtui serve ended"
        url = found.group(1)
        api, cli = [], []
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as c:
            deadline = time.monotonic() + 120
            while {n["state"] for n in c.get("/nodes").json()["nodes"]} != {"UP"}:
                assert time.monotonic() < deadline, "the nodes never all came up"
                time.sleep(0.5)  # every node connected and streaming
            nodes = 0
            for _ in range(runs):
                t0 = time.perf_counter()
                r = c.get("/cluster", timeout=120)
                api.append(time.perf_counter() - t0)
                assert r.status_code == 200, r.text
                nodes = len(r.json()["nodes"])
        for _ in range(runs):
            t0 = time.perf_counter()
            done = subprocess.run(
                [*base, "cluster", "status", "--json"], capture_output=True, env=ENV
            )
            cli.append(time.perf_counter() - t0)
            assert len(json.loads(done.stdout)["nodes"]) == nodes, done.stderr
        return api, cli, nodes
    finally:
        serve.terminate()
        serve.wait(30)
        servers.stdin.close()
        servers.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--status-runs", type=int, default=3)
    ap.add_argument("--serve", type=int)
    ap.add_argument("--sse-interval", type=float, default=1.0)
    ap.add_argument("--ssh-servers", type=int)
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--http", default="auto", help="uvicorn's HTTP parser (the server child)")
    quick_arg(ap)
    args = ap.parse_args()
    if args.quick:  # GET /cluster against the CLI puts 100 node scripts on the cores
        args.seconds, args.status_runs = 3.0, 0
    if args.serve:
        server(args.serve, args.sse_interval, args.http)
        return
    if args.ssh_servers:
        asyncio.run(ssh_servers(args.ssh_servers, args.workdir))
        return
    os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="gridtui-bench-")
    ENV["XDG_STATE_HOME"] = os.environ["XDG_STATE_HOME"]
    from gridtui.services.api_tokens import TokenStore

    token = TokenStore().create("read-only", "bench")[1]
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    # uvicorn's pure-Python parser (h11) as the baseline, then what `gridtui serve` runs:
    # "auto", which is httptools (a dependency) when it imports.
    p99s: dict[tuple[str, bool], float] = {}
    cpu_ms: dict[tuple[str, bool], float] = {}
    for http in ("h11", "auto"):
        proc, url = start_server(NODES, http=http)
        try:
            for compressed in (False, True):
                cpu0 = cpu_seconds(proc.pid)
                lat, wall = asyncio.run(load(url, token, args.seconds, compressed=compressed))
                cpu = cpu_seconds(proc.pid) - cpu0
                ms = [x * 1000 for x in lat]
                p99s[http, compressed] = pct(ms, 99)
                cpu_ms[http, compressed] = cpu / len(ms) * 1000
                how = "Accept-Encoding: gzip" if compressed else "identity"
                print(
                    f"GET /nodes ({how}), parser {http}, {NODES} simulated nodes, "
                    f"{CLIENTS} concurrent clients:"
                )
                print(
                    f"  p50 {pct(ms, 50):.1f} ms  p99 {pct(ms, 99):.1f} ms  "
                    f"{len(ms) / wall:.0f} req/s"
                )
                print(
                    f"  server CPU {cpu / len(ms) * 1000:.2f} ms per request "
                    f"({cpu / wall:.0%} of a core)"
                )
                print(f"  load average now: {os.getloadavg()[0]:.2f}")
        finally:
            proc.terminate()
            proc.wait(10)
    for compressed in (False, True):
        ratio = p99s["h11", compressed] / p99s["auto", compressed]
        how = "gzip" if compressed else "identity"
        print(f"p99 h11 / auto ({how}): {ratio:.2f}x")
        emit(
            f"GET /nodes p99, {NODES} nodes, {CLIENTS} clients, {how}",
            round(p99s["auto", compressed], 1),
            unit="ms",
            baseline=round(p99s["h11", compressed], 1),
            ratio=round(p99s["auto", compressed] / p99s["h11", compressed], 2),
            goal="< 20 ms",
            met=p99s["auto", compressed] < 20,
            note=f"server CPU {cpu_ms['auto', compressed]:.2f} ms a request; baseline: "
            "uvicorn's h11 parser",
        )
    if args.status_runs:
        api, cli, nodes = status_side_by_side(args.status_runs, token)
        print(f"cluster status of {nodes} simulated SSH nodes, {len(api)} runs each (median):")
        print(f"  GET /cluster (running server)        {statistics.median(api):.2f} s")
        print(f"  `gridtui cluster status --json`      {statistics.median(cli):.2f} s")
        print(f"  ratio CLI / API: {statistics.median(cli) / statistics.median(api):.1f}x")
        emit(
            f"`gridtui cluster status --json`, {nodes} simulated SSH nodes (median)",
            round(statistics.median(cli), 2),
            unit="s",
            baseline=round(statistics.median(api), 2),
            ratio=round(statistics.median(cli) / statistics.median(api), 2),
            note=f"{len(api)} runs; baseline: GET /cluster on a running server",
        )
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
