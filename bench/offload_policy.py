"""Bench: auto-offload decisions for 1,000 nodes x 600 samples, and flaps per hour on noise.

(a) Policy cost: one `decide` over 1,000 watched nodes with 600 samples each (3 resources),
    twice: a cold start that steps every sample, and the engine's steady tick, where
    each node has one new sample since the last call (the engine's case). Goal < 50 ms.
(b) Flaps per hour: a recorded-style noisy trace (one sample a second for an hour, a busy
    period then noise around the threshold, seeded) fed one sample at a time; a flap is
    an unfence followed by a fence within 60 s. Goal 0.
Run: .venv/bin/python bench/offload_policy.py  (no Ray needed)
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _report import emit, quick_arg

from gridtui.model.offload import OffloadPolicy, Rule
from gridtui.policy.offload import OffloadState, Sample, decide

RULES = {"cpu": Rule(80, 10, 10, 30), "memory": Rule(85, 10, 10, 30), "gpu": Rule(90, 10, 10, 30)}


def histories(nodes: int, samples: int, rng: random.Random) -> dict[str, list[Sample]]:
    out: dict[str, list[Sample]] = {}
    for n in range(nodes):
        base = rng.uniform(20, 95)
        out[f"n{n}"] = [
            (float(t), {r: min(100.0, max(0.0, base + rng.gauss(0, 8))) for r in RULES})
            for t in range(samples)
        ]
    return out


def policy_cost(repeat: int) -> None:
    rng = random.Random(7)
    data = histories(1000, 601, rng)
    policy = OffloadPolicy(enabled=True, rules=RULES, watched=tuple(data))
    first = {n: s[:600] for n, s in data.items()}
    colds, ticks = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        _, state = decide(first, policy, OffloadState(), 600.0)
        colds.append(time.perf_counter() - start)
        start = time.perf_counter()
        decide(data, policy, state, 601.0)
        ticks.append(time.perf_counter() - start)
    print(
        f"policy cost, 1,000 nodes x 600 samples x 3 resources: "
        f"steady tick median {statistics.median(ticks) * 1000:.1f} ms (goal < 50), "
        f"cold replay of all 1.8 M readings {statistics.median(colds) * 1000:.0f} ms"
    )
    tick = statistics.median(ticks) * 1000
    emit(
        "offload decide, 1,000 nodes x 600 samples, steady tick (median)",
        round(tick, 1),
        unit="ms",
        baseline=round(statistics.median(colds) * 1000),
        goal="< 50 ms",
        met=tick < 50,
        note=f"{repeat} runs; baseline: a cold replay of all 1.8 M readings",
    )


def flaps_per_hour() -> None:
    rng = random.Random(11)
    rule = RULES["cpu"]
    values = [95.0] * 120  # busy: fenced
    low = rule.threshold - rule.hysteresis
    values += [rng.uniform(low + 0.5, rule.threshold + 5) for _ in range(1680)]  # noisy band
    values += [min(100.0, max(0.0, rng.gauss(50, 25))) for _ in range(1800)]  # wild noise
    policy = OffloadPolicy(enabled=True, rules={"cpu": rule})
    state, events = OffloadState(), []
    trace: list[Sample] = []
    for t, v in enumerate(values):
        trace.append((float(t), {"cpu": v}))
        actions, state = decide({"head": trace[-5:]}, policy, state, float(t))
        events += [(a.time, a.kind) for a in actions]
    flaps = sum(
        1
        for (t0, k0), (t1, k1) in itertools.pairwise(events)
        if k0 == "unfence" and k1 == "fence" and t1 - t0 < 60
    )
    print(
        f"noisy trace, 1 h at 1 Hz: {len(events)} actions, {flaps} flaps/hour (goal 0); "
        f"sustain {rule.sustain:g}s hysteresis {rule.hysteresis:g} cooldown {rule.cooldown:g}s"
    )
    emit("offload flaps per hour, noisy 1 h trace", flaps, goal="0", met=flaps == 0)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    quick_arg(parser)
    args = parser.parse_args()
    policy_cost(2 if args.quick else 5)
    flaps_per_hour()
