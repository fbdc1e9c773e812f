"""Recorded cluster traces: deterministic data for snapshot tests, screenshots and key docs."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gridtui.backend import Backend
from gridtui.config import ClusterConfig
from gridtui.model.nodes import NodeState, RayNodeInfo
from gridtui.prefs import Prefs
from gridtui.services.cluster.lifecycle import NodeProgress
from gridtui.services.metrics.hub import MetricsHub

# A fixed instant (2025-06-02 09:30:00 UTC) so every rendering of a trace is identical.
TRACE_START = 1748856600.0
GIB = 1024**3


def _lab_config() -> dict[str, Any]:
    return {
        "name": "lab",
        "sample_interval": 1.0,
        "history_seconds": 600.0,
        "nodes": [
            {"name": "ws", "host": "ws.lab", "role": "head", "resources": {"cpu": 16, "gpu": 1}},
            {"name": "box1", "host": "10.0.0.11", "resources": {"cpu": 8}},
            {"name": "box2", "host": "10.0.0.12", "resources": {"cpu": 8}},
            {"name": "box3", "host": "10.0.0.13", "resources": {"cpu": 4}},
        ],
    }


def _sample(name: str, i: int, rng: random.Random, cores: int, mem_total: int) -> dict[str, Any]:
    """One agent reading shaped like gridtui/agent/sampler.py's output."""
    t = TRACE_START + i
    base = {"ws": 55.0, "box1": 30.0, "box2": 12.0, "box3": 70.0}[name]
    wave = {"ws": 25.0, "box1": 20.0, "box2": 6.0, "box3": 15.0}[name]
    cpu = max(0.0, min(100.0, base + wave * math.sin(i / 9.0) + rng.uniform(-4, 4)))
    core_values = [round(max(0.0, min(100.0, cpu + rng.uniform(-25, 25))), 1) for _ in range(cores)]
    mem_frac = {"ws": 0.62, "box1": 0.41, "box2": 0.23, "box3": 0.81}[name]
    mem_used = int(mem_total * min(0.98, mem_frac + 0.05 * math.sin(i / 20.0) + i / 4000.0))
    gpus = []
    if name == "ws":
        util = max(0.0, min(100.0, 60 + 35 * math.sin(i / 6.0) + rng.uniform(-5, 5)))
        gpus.append(
            {
                "index": 0,
                "name": "NVIDIA RTX 4090",
                "util": round(util, 1),
                "mem_used": int(24 * GIB * (0.5 + 0.2 * math.sin(i / 15.0))),
                "mem_total": 24 * GIB,
                "temp": round(55 + util / 5, 0),
            }
        )
    return {
        "v": 1,
        "seq": i,
        "t": t,
        "host": name,
        "scope": "host",
        "cpu": round(cpu, 2),
        "cores": core_values,
        "load": [round(cpu * cores / 100.0, 2), round(cpu * cores / 110.0, 2), 1.5],
        "mem": {"total": mem_total, "used": mem_used},
        "swap": {"total": 4 * GIB, "used": int(0.1 * GIB)},
        "disk": {"total": 512 * GIB, "used": int(200 * GIB)},
        "net": {"rx": 1_000_000 * i + rng.randrange(10_000), "tx": 400_000 * i},
        "gpus": gpus,
        "ray": {"processes": 0},
    }


def generate_trace(samples: int = 120, seed: int = 7) -> Iterator[dict[str, Any]]:
    """The lab trace: ws (head, one GPU), box1, box2 live; box3 stops halfway and is DOWN."""
    rng = random.Random(seed)
    yield {"type": "cluster", "config": _lab_config(), "time": TRACE_START + samples - 1}
    shape = {"ws": (16, 64 * GIB), "box1": (8, 32 * GIB), "box2": (8, 32 * GIB)}
    shape["box3"] = (4, 16 * GIB)
    for i in range(samples):
        for name, (cores, mem) in shape.items():
            if name == "box3" and i >= samples // 2:
                continue
            yield {
                "type": "sample",
                "node": name,
                "received": TRACE_START + i,
                "data": _sample(name, i, rng, cores, mem),
            }
    yield {
        "type": "state",
        "node": "box3",
        "state": "DOWN",
        "reason": "timeout: no sample for 3.0s",
    }


def write_trace(path: Path, samples: int = 120) -> None:
    with path.open("w", encoding="utf-8") as f:
        for record in generate_trace(samples):
            f.write(json.dumps(record, separators=(",", ":")) + "\n")


def load_hub(path: Path) -> MetricsHub:
    """A MetricsHub replaying a trace, with its clocks frozen at the trace's end."""
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    header = records[0]
    if header.get("type") != "cluster":
        raise ValueError(f"{path}: the first line must be the cluster record")
    config = ClusterConfig.model_validate(header["config"])
    end = float(header["time"])
    hub = MetricsHub(config, clock=lambda: end, wall_clock=lambda: end)
    for record in records[1:]:
        if record["type"] == "sample":
            hub.record(record["node"], record["data"], received=float(record["received"]))
        elif record["type"] == "state":
            hub.mark_state(record["node"], NodeState(record["state"]), record.get("reason", ""))
    return hub


def lab_ray_view() -> dict[str, RayNodeInfo]:
    """Ray's view of the lab at the trace's end: three nodes alive and busy, box3 dead."""
    return {
        "ws": RayNodeInfo(True, "a1" * 28, 16, 6, 1, 0, 8 * GIB, 5.5 * GIB),
        "box1": RayNodeInfo(True, "b2" * 28, 8, 3, 0, 0, 4 * GIB, 3.75 * GIB),
        "box2": RayNodeInfo(True, "c3" * 28, 8, 8, 0, 0, 4 * GIB, 4 * GIB),
        "box3": RayNodeInfo(False, "d4" * 28, 4, 0, 0, 0, 2 * GIB, 2 * GIB),
    }


def lab_start_progress() -> list[NodeProgress]:
    """A `start` caught halfway: the head up, two workers joining, one failed."""
    return [
        NodeProgress("ws", "check", "ok", "Python 3.11.9, Ray 2.60.0"),
        NodeProgress("box1", "check", "ok", "Python 3.11.9, Ray 2.60.0"),
        NodeProgress("box2", "check", "ok", "Python 3.11.9, Ray 2.60.0"),
        NodeProgress("box3", "check", "ok", "Python 3.11.9, Ray 2.60.0"),
        NodeProgress("ws", "start", "ok", "GCS at ws.lab:6379"),
        NodeProgress("box1", "start", "running", "ray start"),
        NodeProgress("box2", "join", "running"),
        NodeProgress("box3", "start", "failed", "ray start exited 1: port 8076 in use"),
    ]


def recorded_backend(path: Path, prefs: Prefs | None = None, *, ray_view: bool = False) -> Backend:
    """A Backend that opens no streams: what the console renders in tests and screenshots.

    With `ray_view`, the Ray view service publishes the fixed view of lab_ray_view()."""
    hub = load_hub(path)
    backend = Backend(
        config=hub.config, prefs=prefs or Prefs(), hub=hub, streaming=False, ray=False
    )
    if ray_view:
        backend.ray_view.set(True, lab_ray_view())
    return backend


DEFAULT_TRACE = Path(__file__).resolve().parent / "data" / "lab_trace.jsonl"

if __name__ == "__main__":
    write_trace(DEFAULT_TRACE)
