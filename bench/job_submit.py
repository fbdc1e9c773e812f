"""Bench: a job's submit to RUNNING, `gridtui job submit --node worker-2` against Ray's own
`ray job submit --no-wait` of the same job (same entrypoint, same node pin), on the demo.

Each run starts the command as a fresh process (what a user types) and polls Ray's job
table from here every 20 ms until the job is RUNNING; the job is stopped after. The demo
runs in a state dir of its own. Run under the Ray slot: .venv/bin/python bench/job_submit.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import emit, quick_arg

RUNS = 5
ENTRY = ["sleep", "60"]


def until_running(client, jid: str, t0: float) -> float:  # type: ignore[no-untyped-def]
    while True:
        status = str(client.get_job_status(jid))
        if status.endswith("RUNNING"):
            return time.perf_counter() - t0
        assert not status.endswith(("FAILED", "STOPPED", "SUCCEEDED")), status
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    quick_arg(parser)
    runs = 2 if parser.parse_args().quick else RUNS
    state = tempfile.mkdtemp(prefix="gtjs-")
    os.environ["XDG_STATE_HOME"] = state
    from ray.job_submission import JobSubmissionClient

    from gridtui.services.cluster import demo
    from gridtui.services.ray import auth as ray_auth

    config = asyncio.run(demo.ensure_demo_running())
    try:
        url = f"http://127.0.0.1:{config.ray.dashboard_port}"
        pin = json.dumps({f"node:{config.node('worker-2').host}": 0.001})
        # Both sides send the demo's Ray token: `ray job submit` reads it from the env.
        headers = dict(ray_auth.http_headers(config))
        ray_auth.apply(config, os.environ)
        client = JobSubmissionClient(url, headers=headers)
        bindir = Path(sys.executable).parent
        base, prod = [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            out = subprocess.run(
                [str(bindir / "ray"), "job", "submit", "--address", url, "--no-wait",
                 "--entrypoint-resources", pin, "--", *ENTRY],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            found = re.search(r"raysubmit_[A-Za-z0-9]+", out.stdout + out.stderr)
            assert found, out.stdout + out.stderr
            jid = found.group(0)
            base.append(until_running(client, jid, t0))
            client.stop_job(jid)
            t0 = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-m", "gridtui", "job", "submit", "--node", "worker-2", "--",
                 *ENTRY],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            jid = out.stdout.strip().splitlines()[-1]
            prod.append(until_running(client, jid, t0))
            client.stop_job(jid)
        b, p = statistics.median(base), statistics.median(prod)
        print(f"submit to RUNNING, median of {runs} (worker-2, `{' '.join(ENTRY)}`):")
        print(
            f"  ray job submit --no-wait   {b:6.2f} s   (runs: {', '.join(f'{x:.2f}' for x in base)})"
        )
        print(
            f"  gridtui job submit --node  {p:6.2f} s   (runs: {', '.join(f'{x:.2f}' for x in prod)})"
        )
        print(f"  gridtui / ray: {p / b:.2f}")
        emit(
            "job submit to RUNNING on worker-2 (median)",
            round(p, 2),
            unit="s",
            baseline=round(b, 2),
            ratio=round(p / b, 2),
            note=f"{runs} runs; baseline: ray job submit --no-wait",
        )
    finally:
        asyncio.run(demo.stop_demo())


if __name__ == "__main__":
    main()
