"""Bench: what the Work view costs the console with 1,000 actors (simulated at the data boundary).

The real console (GridApp, headless at 140x40) runs the real WorkService; only Ray's
dashboard is simulated (tests/fake_work.py's FakeDashboard serving 1,000 live actors, as
Ray's state API shapes them, over the lab's four nodes, plus the lab's jobs and a task).
Each answer is pickled and unpickled on the way, as the console's answers cross the link
from its Ray driver process (services/work/remote.py), so that cost is counted too.

Measured as the console process's own CPU time (every thread: the reads' threads, the
unpickling, the rows, the message, the table, the frame):
- one refresh with the Work view open: read, build the snapshot, publish, redraw, render
  (median over N refreshes). Goal: < 100 ms.
- the console's share of a core over a window with the view open and the service polling
  every 2 s as the console does. Goal: < 5%.
- the same window on the dashboard (the Work view closed: the Nodes pane's Work column
  alone follows the feed), for comparison.
Run: .venv/bin/python bench/work_view.py [--actors 1000] [--seconds 20] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pickle
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _report import emit, quick_arg

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fake_work import FakeDashboard, FakeWork, many_actors  # noqa: E402
from recorded import DEFAULT_TRACE, recorded_backend  # noqa: E402

from gridtui.prefs import Prefs  # noqa: E402
from gridtui.ui.app import make_app  # noqa: E402
from gridtui.ui.screens.work import WorkScreen  # noqa: E402
from gridtui.ui.widgets.work_table import WorkTable  # noqa: E402

SIZE = (140, 40)
POLL = 2.0
"""The console's work poll (WorkService.interval)."""


def crossed(value: Any) -> Any:
    """As the driver link delivers an answer: pickled there, unpickled here."""
    return pickle.loads(pickle.dumps(value))


class LinkedDashboard(FakeDashboard):
    """The lab's dashboard with `n` actors, every answer through a pickle round trip."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.actor_list = self.actor_list + many_actors(n)

    def jobs(self) -> list[dict[str, Any]]:
        return crossed(super().jobs())  # type: ignore[no-any-return]

    def actors(self) -> list[dict[str, Any]]:
        return crossed(super().actors())  # type: ignore[no-any-return]

    def tasks(self, state: str = "RUNNING") -> list[dict[str, Any]]:
        return crossed(super().tasks(state))  # type: ignore[no-any-return]

    def groups(self) -> list[dict[str, Any]]:
        return crossed(super().groups())  # type: ignore[no-any-return]

    def nodes(self) -> list[dict[str, Any]]:
        return crossed(super().nodes())  # type: ignore[no-any-return]


async def measure(actors: int, refreshes: int, seconds: float) -> dict[str, float]:
    tmp = tempfile.mkdtemp(prefix="gridtui-work-bench-")
    os.environ["XDG_STATE_HOME"] = tmp
    backend = recorded_backend(DEFAULT_TRACE, Prefs(Path(tmp) / "prefs.json"), ray_view=True)
    work = FakeWork(backend, LinkedDashboard(actors))
    backend.attach_work(work)
    app = make_app(backend)
    out: dict[str, float] = {}
    async with app.run_test(size=SIZE) as pilot:
        await work.refresh()
        await pilot.pause()

        async def window(label: str) -> None:
            task = work.start_polling(POLL)
            await pilot.pause(1.0)  # the first read and frame are not the steady state
            cpu, wall = time.process_time(), time.monotonic()
            await asyncio.sleep(seconds)
            used, took = time.process_time() - cpu, time.monotonic() - wall
            task.cancel()
            await asyncio.wait({task}, timeout=5)
            out[label] = 100.0 * used / took
            print(f"{label}: {out[label]:.2f}% of a core over {took:.1f}s")

        await window("dashboard_cpu")
        await pilot.press("W")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, WorkScreen)
        table = app.screen.query_one(WorkTable)
        shown = sum(1 for line in table.lines if line.item is not None)
        assert shown >= actors, f"the view shows {shown} items, not {actors}"
        costs = []
        for _ in range(refreshes):
            work.board_fake.actor_list[-1]["pid"] += 1  # something changed: a real redraw
            cpu = time.process_time()
            await work.refresh()
            await pilot.pause()  # the message, the redraw and the frame, on the loop
            costs.append(1000.0 * (time.process_time() - cpu))
        out["refresh_ms"] = statistics.median(costs)
        out["refresh_max_ms"] = max(costs)
        print(f"refresh: median {out['refresh_ms']:.1f} ms, max {out['refresh_max_ms']:.1f} ms "
              f"over {refreshes} ({shown} items shown)")  # fmt: skip
        await window("view_cpu")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--actors", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20.0, help="each CPU window")
    parser.add_argument("--refreshes", type=int, default=21)
    quick_arg(parser)
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.refreshes = 4.0, 5
    os.environ["TZ"] = "UTC"
    time.tzset()
    got = asyncio.run(measure(args.actors, args.refreshes, args.seconds))
    n = args.actors
    emit(f"refresh with {n} actors", round(got["refresh_ms"], 1), unit="ms", goal="< 100 ms",
         met=got["refresh_ms"] < 100.0,
         note=f"console CPU per refresh, view open, median; max {got['refresh_max_ms']:.1f} ms")  # fmt: skip
    emit(f"console CPU, Work view open, {n} actors", round(got["view_cpu"], 2), unit="% of a core",
         goal="< 5%", met=got["view_cpu"] < 5.0, note=f"polled every {POLL:g} s")  # fmt: skip
    emit(f"console CPU, dashboard, {n} actors", round(got["dashboard_cpu"], 2),
         unit="% of a core", note="the Nodes pane's Work column follows the same feed")  # fmt: skip


if __name__ == "__main__":
    main()
