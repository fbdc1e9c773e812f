"""Bench: memory store and retrieve of 1 GiB vs raw ray.put/ray.get of the same chunks.

Both move the same chunks (4 MiB, 8 in flight) from a driver on the head to worker-1 and
back (every actor started before: a shard starts with the first store on its node); the
raw side is the least Ray needs for it (the chunk pulled into an actor on
worker-1; chunks an actor there put, pulled back), ours adds the shard's own copy, the
checksums, the index and the two-phase commit. The client's memory is sampled meanwhile.
Usage: python bench/memory.py [--size-mib 1024] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import os
import pickle
import statistics
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))

from _report import emit, quick_arg
from memory_cluster import LocalCluster

from gridtui.services.memory.client import MemoryService
from gridtui.services.memory.io import Sink
from gridtui.services.memory.transfer import CHUNK_SIZE, WINDOW

MiB = 1024**2


class Sampler:
    """Peak private (anonymous) and shared memory of this process, every 5 ms."""

    def __init__(self) -> None:
        self.peak_anon = self.peak_shmem = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def read() -> tuple[int, int]:
        fields = {}
        with open("/proc/self/status") as f:
            for line in f:
                name, _, value = line.partition(":")
                if name in ("RssAnon", "RssShmem"):
                    fields[name] = int(value.split()[0]) * 1024
        return fields["RssAnon"], fields["RssShmem"]

    def __enter__(self) -> Sampler:
        self.idle_anon, self.idle_shmem = self.read()
        self.peak_anon, self.peak_shmem = self.idle_anon, self.idle_shmem
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            anon, shmem = self.read()
            self.peak_anon = max(self.peak_anon, anon)
            self.peak_shmem = max(self.peak_shmem, shmem)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()

    @property
    def anon_chunks(self) -> float:
        return (self.peak_anon - self.idle_anon) / CHUNK_SIZE


class Discard(Sink):
    def write(self, data: Any) -> None:
        return None


def raw_actor() -> Any:
    import ray

    @ray.remote(num_cpus=0, max_concurrency=WINDOW)
    class Raw:
        def __init__(self) -> None:
            self.held: list[Any] = []
            self.refs: list[Any] = []

        def take(self, data: Any) -> int:
            return len(memoryview(data))

        def hold(self, refs: list[Any]) -> int:
            """ray.get on this node, the value kept: the bytes end up held in this node's
            store, as a store's do."""
            self.held.append(ray.get(refs[0]))
            return len(memoryview(self.held[-1]))

        def make(self, path: str) -> list[Any]:
            """The same chunks, put (and owned) here: what a raw get pulls back."""
            refs = []
            with open(path, "rb", buffering=0) as f:
                buf = bytearray(CHUNK_SIZE)
                while n := f.readinto(buf):
                    refs.append(ray.put(pickle.PickleBuffer(memoryview(buf)[:n])))
            self.refs = refs
            return refs

        def drop(self) -> None:
            self.refs = []
            self.held = []

    return Raw


def raw_store(actor: Any, path: Path, hold: bool) -> None:
    """ray.put here, then on worker-1 either ray.get and keep the value (`hold`: the same
    end state as a store) or just receive the argument and drop it (transport only)."""
    import ray

    inflight: deque[Any] = deque()
    kept = []
    buf = bytearray(CHUNK_SIZE)
    with path.open("rb", buffering=0) as f:
        while n := f.readinto(buf):
            ref = ray.put(pickle.PickleBuffer(memoryview(buf)[:n]))
            if hold:
                kept.append(ref)
                inflight.append(actor.hold.remote([ref]))
            else:
                inflight.append(actor.take.remote(ref))
            if len(inflight) >= WINDOW:
                ray.get(inflight.popleft())
    ray.get(list(inflight))
    ray.get(actor.drop.remote())


def raw_retrieve(refs: list[Any]) -> None:
    pending: deque[concurrent.futures.Future[Any]] = deque()
    for ref in refs:
        pending.append(ref.future())
        if len(pending) >= WINDOW:
            memoryview(pending.popleft().result()).nbytes  # noqa: B018 - touch it
    for fut in pending:
        memoryview(fut.result()).nbytes  # noqa: B018


def timed(fn: Any) -> tuple[float, Sampler]:
    with Sampler() as sampler:
        t0 = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - t0
    return elapsed, sampler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=2)
    quick_arg(parser)
    args = parser.parse_args()
    if args.quick:
        args.size_mib, args.rounds = 256, 1
    size = args.size_mib * MiB
    store = int(size * 1.6)  # capacity 0.75 of it: the object plus room to spare

    import ray

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.bin"
        with path.open("wb") as f:
            for _ in range(size // (64 * MiB)):
                f.write(os.urandom(64 * MiB))
        cluster = LocalCluster(Path(tmp), store, capacity=0.75)
        asyncio.run(cluster.start())
        try:
            cluster.use_here()
            ray.init(
                address=cluster.address, _node_ip_address="127.0.0.2", namespace="gridtui",
                log_to_driver=False, configure_logging=False,
            )  # fmt: skip
            nodes = {n["Labels"]["gridtui.node"]: n["NodeID"] for n in ray.nodes()}
            from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

            worker = NodeAffinitySchedulingStrategy(nodes["worker-1"], soft=False)
            actor = raw_actor().options(scheduling_strategy=worker).remote()
            service = MemoryService(cluster.config)
            # Both sides' actors are up before anything is timed: the index, worker-1's
            # shard (started by the first store there, a second or two) and the raw actor.
            service.store("bench/warm", b"warm", node="worker-1")
            service.delete("bench/warm")
            ray.get(actor.take.remote(b"warm"))

            rows: dict[str, list[float]] = {}
            mem: dict[str, list[Sampler]] = {}

            def record(name: str, fn: Any) -> None:
                elapsed, sampler = timed(fn)
                rows.setdefault(name, []).append(size / elapsed / MiB)
                mem.setdefault(name, []).append(sampler)
                print(f"  {name:<14} {size / elapsed / MiB:7.1f} MiB/s  {elapsed:5.2f}s  "
                      f"anon +{sampler.anon_chunks:4.2f} chunks  "
                      f"shmem +{(sampler.peak_shmem - sampler.idle_shmem) / MiB:5.1f} MiB",
                      flush=True)  # fmt: skip

            for r in range(args.rounds):
                print(f"round {r + 1}", flush=True)
                # Ours first: in round 1 its memory is measured before anything else in
                # this process allocated (and freed) a chunk buffer it could reuse.
                record("store", lambda: service.store("bench", path, node="worker-1"))
                record("retrieve", lambda: service.retrieve("bench", Discard()))
                service.delete("bench")
                record("raw put+get", lambda: raw_store(actor, path, hold=True))
                record("raw transport", lambda: raw_store(actor, path, hold=False))
                refs = ray.get(actor.make.remote(str(path)))
                record("raw get", lambda refs=refs: raw_retrieve(refs))
                del refs
                ray.get(actor.drop.remote())

            print()
            print(f"{size // MiB} MiB, chunks of {CHUNK_SIZE // MiB} MiB, {WINDOW} in flight, "
                  "head -> worker-1 and back; median of rounds")  # fmt: skip
            for ours, raw in (
                ("store", "raw put+get"),
                ("store", "raw transport"),
                ("retrieve", "raw get"),
            ):
                a, b = statistics.median(rows[ours]), statistics.median(rows[raw])
                print(f"{ours:<9} {a:7.1f} MiB/s   {raw:<13} {b:7.1f} MiB/s   ratio {a / b:.2f}x")
                goal = raw != "raw transport"  # the transport alone is a diagnosis, no goal
                emit(f"memory {ours} {size // MiB} MiB head -> worker-1, vs {raw}",
                     round(a, 1), unit="MiB/s", baseline=round(b, 1), ratio=round(a / b, 2),
                     goal=">= 0.8x" if goal else "", met=a / b >= 0.8 if goal else None,
                     note=f"median of {args.rounds} rounds")  # fmt: skip
            for name in ("store", "retrieve"):
                worst = max(mem[name], key=lambda s: s.peak_anon - s.idle_anon)
                print(f"client memory peak during {name}, worst round: +{worst.anon_chunks:.2f} "
                      f"chunks (+{(worst.peak_anon - worst.idle_anon) / MiB:.1f} MiB private; "
                      "the object store's shared pages are the node's, not the client's)")  # fmt: skip
                emit(f"client memory peak during a {size // MiB} MiB {name}", round(worst.anon_chunks, 2),
                     unit="chunks", goal="< 3 chunks", met=worst.anon_chunks < 3,
                     note="private memory, worst round")  # fmt: skip
        finally:
            ray.shutdown()
            asyncio.run(cluster.stop())


if __name__ == "__main__":
    main()
