"""Bench: one scheduler decision over 1,000 node views, per strategy (goal < 5 ms).

A seeded random table (a tenth STALE or DOWN, a fifth with GPUs, live figures on most),
and two requests per strategy: one a single node can hold, one that must split.
Baseline in the same run: a plain `min()` over the table by free CPU, the least any
decision could cost. Run: .venv/bin/python bench/scheduler.py [--nodes 1000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _report import emit, quick_arg

from gridtui.model.reservations import NodeView
from gridtui.policy.scheduler import STRATEGIES, choose

GiB = 1024**3


def table(count: int, seed: int = 7) -> list[NodeView]:
    rng = random.Random(seed)
    views = []
    for i in range(count):
        cpus = rng.choice([8, 16, 32, 64])
        gpus = rng.choice([0, 0, 0, 0, 2, 4, 8])
        live = rng.random() < 0.9
        views.append(
            NodeView(
                name=f"node-{i:04d}",
                node_id=f"{i:056x}",
                role="head" if i == 0 else "worker",
                state=rng.choices(["UP", "STALE", "DOWN"], [90, 5, 5])[0],
                cpu_total=cpus,
                cpu_free=rng.randint(0, cpus),
                gpu_total=gpus,
                gpu_free=rng.randint(0, gpus),
                mem_total=cpus * 4 * GiB,
                mem_free=rng.random() * cpus * 4 * GiB,
                cpu_util=rng.random() * 100 if live else None,
                mem_util=rng.random() * 100 if live else None,
                gpu_util=rng.random() * 100 if live and gpus else None,
            )
        )
    return views


def timed(fn: object, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append(time.perf_counter() - t0)
    return out


def ms(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[round(0.95 * (len(values) - 1))]
    return f"median {1000 * statistics.median(values):5.2f} ms  p95 {1000 * p95:5.2f} ms"


def main(count: int, repeat: int) -> None:
    views = table(count)
    base = timed(lambda: min(views, key=lambda v: v.cpu_free), repeat)
    print(f"{count} node views, {repeat} decisions each")
    print(f"  {'baseline min() by free CPU':<34} {ms(base)}")
    worst = 0.0
    for strategy in STRATEGIES:
        for rtype, amount, label in (("cpu", 4, "4 CPU"), ("cpu", 200, "200 CPU, split"),
                                     ("gpu", 2, "2 GPU")):  # fmt: skip
            got = timed(lambda s=strategy, t=rtype, a=amount: choose(views, t, a, s), repeat)
            worst = max(worst, statistics.median(got))
            ratio = statistics.median(got) / statistics.median(base)
            print(f"  {strategy + ' ' + label:<34} {ms(got)}  ({ratio:.0f}x baseline)")
    print(f"slowest median decision: {1000 * worst:.2f} ms (goal < 5 ms)")
    emit(
        f"scheduler decision, {count:,} node views, slowest strategy (median)",
        round(1000 * worst, 2),
        unit="ms",
        baseline=round(1000 * statistics.median(base), 2),
        goal="< 5 ms",
        met=worst < 0.005,
        note="baseline: a plain min() by free CPU",
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=200)
    quick_arg(parser)
    args = parser.parse_args()
    main(args.nodes, 20 if args.quick else args.repeat)
