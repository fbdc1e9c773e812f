"""Render the console's screenshots (SVG) from the real app on the recorded lab trace."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the recorded trace lives with the tests

from fake_control import LAB_NOW, FakeControl, attach, lab_reservations  # noqa: E402
from fake_memory import FakeMemory, attach_memory, lab_memory  # noqa: E402
from fake_work import attach_work  # noqa: E402
from recorded import DEFAULT_TRACE, recorded_backend  # noqa: E402

from gridtui.prefs import Prefs  # noqa: E402
from gridtui.ui.app import make_app  # noqa: E402
from gridtui.ui.widgets import boosts_pane  # noqa: E402

SHOTS = {
    "main": (),
    "node-detail": ("down", "down", "enter"),
    "help": ("question_mark",),
}
# Shot on the recorded trace with its fixed Ray view merged in (the Ray columns filled).
RAY_SHOTS = {
    "ray-view": (),
    "confirm-stop-node": ("down", "x"),
}
# With the fake engine's lab state: ws fenced, four events (tuning: memory 85% -> 60%).
OFFLOAD_SHOTS = {
    "offload-events": ("5",),
    "offload-view": ("O",),
    "offload-tuning": ("O", "down", "t", *["shift+left"] * 5),
}
# With the Ray view and recorded reservations (pending, active, expiring, lost).
BOOST_SHOTS = {
    "dashboard": (),
    "boost-form": ("b",),
    "share-form": ("B",),
    "release-confirm": ("3", "r"),
}

# With the Ray view and recorded stored objects (replicas, a lost one) and node use.
MEMORY_SHOTS = {
    "memory-pane": ("4", "down"),
    "store-form": ("4", "s"),
}

# With the fake dashboard's lab work: three jobs (one pending, with why), actors and tasks
# by node, gridtui's own apart.
WORK_SHOTS = {
    "work": ("W", "down"),
}


async def shoot(
    name: str,
    keys: tuple[str, ...],
    out: Path,
    theme: str | None,
    size: tuple[int, int],
    ray_view: bool = False,
    boosts: bool = False,
    offload: bool = False,
    memory: bool = False,
    work: bool = False,
) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        backend = recorded_backend(
            DEFAULT_TRACE, Prefs(Path(tmp) / "prefs.json"), ray_view=ray_view
        )
        app = make_app(backend, theme=theme)
        # The boosts' shots are the whole dashboard: every pane with the lab's data.
        if boosts or offload or memory:
            control = FakeControl(lab_reservations()) if boosts else FakeControl()
            attach(backend, control.lab_offload() if boosts or offload else control)
            boosts_pane.now = lambda: LAB_NOW + 5
        if boosts or memory:
            attach_memory(backend, FakeMemory(lab_memory()))
        if work:
            await attach_work(backend).refresh()
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            if backend.offload is not None:
                await backend.offload.refresh()
                await pilot.pause()
            for key in keys:
                await pilot.press(key)
            await pilot.wait_for_scheduled_animations()
            await app.workers.wait_for_complete()
            for screen in app.screen_stack:
                await screen.workers.wait_for_complete()
            await pilot.pause()
            path = out / f"{name}.svg"
            app.save_screenshot(filename=path.name, path=str(out))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    parser.add_argument("--theme", default=None)
    parser.add_argument("--size", default="140x40", help="COLUMNSxROWS")
    args = parser.parse_args()
    os.environ["TZ"] = "UTC"  # the header clock shows the trace's time, the same everywhere
    time.tzset()
    cols, rows = (int(x) for x in args.size.split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    for name, keys in SHOTS.items():
        print(asyncio.run(shoot(name, keys, args.out, args.theme, (cols, rows))))
    for name, keys in RAY_SHOTS.items():
        print(asyncio.run(shoot(name, keys, args.out, args.theme, (cols, rows), ray_view=True)))
    for name, keys in BOOST_SHOTS.items():
        shot = shoot(name, keys, args.out, args.theme, (cols, rows), ray_view=True, boosts=True)
        print(asyncio.run(shot))
    for name, keys in OFFLOAD_SHOTS.items():
        shot = shoot(name, keys, args.out, args.theme, (cols, rows), ray_view=True, offload=True)
        print(asyncio.run(shot))
    for name, keys in MEMORY_SHOTS.items():
        shot = shoot(name, keys, args.out, args.theme, (cols, rows), ray_view=True, memory=True)
        print(asyncio.run(shot))
    for name, keys in WORK_SHOTS.items():
        shot = shoot(name, keys, args.out, args.theme, (cols, rows), ray_view=True, work=True)
        print(asyncio.run(shot))


if __name__ == "__main__":
    main()
