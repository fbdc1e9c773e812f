"""Bench: what each overlay costs the real console on the demo, and the console's idle cost.

The real `gridtui` (no config: it attaches to the demo cluster, started here in a private
state directory and stopped at the end) runs in tmux at 140x40, all five panes on screen.
Its own process's CPU (utime + stime from /proc/PID/stat; Ray's driver is a child process
of its own, reported apart) is measured in windows: the dashboard, then each overlay open,
then the dashboard again, so each overlay is set against the dashboard windows either side
of it. The overlays, opened by their keys and checked on screen: the help (`?`), the boost
form (`b`), a confirmation (`x`, answered `n`), the command palette (ctrl+p) and the
transfer panel (`4`, `s`, a store from a named pipe that this bench feeds a little at a
time, cancelled with escape). Goals: every overlay <= 1.3x the dashboard around it, and
the dashboard under 3% of a core.
Run: /work/bin/raylock .venv/bin/python bench/overlays.py [--seconds 20] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from _report import emit, quick_arg

GRIDTUI = str(Path(sys.executable).with_name("gridtui"))
WIDTH, HEIGHT = 140, 40
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


class Console:
    """`gridtui` in a private tmux server: keys in, screen text out, its PID's CPU."""

    def __init__(self, env: dict[str, str], cwd: str) -> None:
        self.tmux = ["tmux", "-L", f"gridtui-overlays-{uuid.uuid4().hex[:6]}", "-f", "/dev/null"]
        subprocess.run(
            [*self.tmux, "new-session", "-d", "-x", str(WIDTH), "-y", str(HEIGHT),
             f"exec {GRIDTUI}"],
            check=True, env=env, cwd=cwd,
        )  # fmt: skip
        out = subprocess.run(
            [*self.tmux, "display", "-p", "#{pane_pid}"], capture_output=True, text=True
        )
        self.pid = int(out.stdout.strip())

    def screen(self) -> str:
        return subprocess.run(
            [*self.tmux, "capture-pane", "-p"], capture_output=True, text=True
        ).stdout

    def keys(self, *keys: str, literal: bool = False) -> None:
        subprocess.run([*self.tmux, "send-keys", *(["-l"] if literal else []), *keys], check=True)

    def until(self, ok: Callable[[str], bool], what: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if ok(screen):
                return
            time.sleep(0.2)
        raise SystemExit(f"overlays: {what} never showed in {timeout:g}s; the screen:\n{screen}")

    def driver(self) -> int | None:
        """Ray's driver: the console's child process (services/ray/driver_link.py)."""
        kids = children(self.pid)
        return kids[0] if kids else None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.keys("q")
            time.sleep(3)
        subprocess.run([*self.tmux, "kill-server"], check=False, stderr=subprocess.DEVNULL)


class Window:
    """CPU of the console (and, apart, its Ray driver) over `seconds`, in % of one core."""

    def __init__(self, console: Console, name: str, seconds: float) -> None:
        driver = console.driver()
        load0 = os.getloadavg()[0]
        t0 = time.monotonic()
        c0 = cpu_seconds(console.pid)
        d0 = cpu_seconds(driver) if driver else 0.0
        time.sleep(seconds)
        wall = time.monotonic() - t0
        self.name = name
        self.console = 100 * (cpu_seconds(console.pid) - c0) / wall
        self.driver = 100 * (cpu_seconds(driver) - d0) / wall if driver else float("nan")
        self.load = (load0, os.getloadavg()[0])
        print(
            f"  {name:<28} console {self.console:6.2f}%   Ray driver {self.driver:6.2f}%   "
            f"load {self.load[0]:.2f}->{self.load[1]:.2f}",
            flush=True,
        )


class Pipe:
    """A named pipe the store reads: a little every second, so the transfer is alive and
    slow (its panel up for the whole window) without moving much through the cluster."""

    def __init__(self, path: Path) -> None:
        os.mkfifo(path)
        self.path = path
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._feed, daemon=True)
        self.thread.start()

    def _feed(self) -> None:
        fd = os.open(self.path, os.O_WRONLY)  # blocks until the store opens it
        try:
            while not self.stop.wait(1.0):
                os.write(fd, b"x" * 65536)
        except OSError:
            pass
        finally:
            os.close(fd)

    def close(self) -> None:
        self.stop.set()
        if self.thread.is_alive():  # never opened by the store: open it once to unblock
            with contextlib.suppress(OSError):
                os.close(os.open(self.path, os.O_RDONLY | os.O_NONBLOCK))
        self.thread.join(5)


def overlays(
    console: Console, pipe: Path
) -> list[tuple[str, Callable[[], None], Callable[[], None]]]:
    """(name, open and check it is shown, close and check it is gone) for each overlay."""
    c = console

    def shown(text: str, what: str) -> Callable[[], None]:
        return lambda: c.until(lambda s: text in s, what)

    def gone(text: str, what: str) -> Callable[[], None]:
        return lambda: c.until(lambda s: text not in s, f"{what} closed")

    def opener(keys: tuple[str, ...], text: str, what: str) -> Callable[[], None]:
        def run() -> None:
            c.keys(*keys)
            shown(text, what)()

        return run

    def closer(keys: tuple[str, ...], text: str, what: str) -> Callable[[], None]:
        def run() -> None:
            c.keys(*keys)
            gone(text, what)()

        return run

    feeding: list[Pipe] = []

    def open_transfer() -> None:
        c.keys("4")
        time.sleep(0.5)
        c.keys("s")
        shown("Store a file in the cluster", "the store form")()
        feeding.append(Pipe(pipe))
        c.keys(str(pipe), literal=True)
        time.sleep(0.5)
        c.keys("Enter")
        shown("escape cancels", "the transfer panel")()

    def close_transfer() -> None:
        c.keys("Escape")
        # Cancelled before the pipe ends: at its end first, the store would complete, and
        # the object it made would change the dashboard measured next.
        gone("escape cancels", "the transfer panel")()
        feeding.pop().close()
        c.keys("1")  # the Nodes table has the focus again

    return [
        ("help (?)", opener(("?",), "gridtui keys", "help"), closer(("Escape",), "gridtui keys", "help")),
        ("boost form (b)", opener(("b",), "enter requests", "boost form"), closer(("Escape",), "enter requests", "boost form")),
        ("confirmation (x)", opener(("x",), "Cancel (n)", "confirmation"), closer(("n",), "Cancel (n)", "confirmation")),
        ("palette (ctrl+p)", opener(("C-p",), "Search for commands", "palette"), closer(("Escape",), "Search for commands", "palette")),
        ("transfer panel (store)", open_transfer, close_transfer),
    ]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0, help="each window")
    parser.add_argument("--warmup", type=float, default=20.0, help="after all 3 nodes are up")
    parser.add_argument("--settle", type=float, default=3.0, help="after opening or closing")
    parser.add_argument("--only", nargs="*", default=(), help="overlay names to run (prefix)")
    quick_arg(parser)
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.warmup = 5.0, 12.0
    if shutil.which("tmux") is None:
        raise SystemExit("overlays: tmux is needed")
    state = tempfile.mkdtemp(prefix="gridtui-bench-overlays-")
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TMUX")}
    env.pop("GRIDTUI_CONFIG", None)
    env.update(
        TERM="xterm-256color",
        XDG_STATE_HOME=state,
        XDG_CONFIG_HOME=str(Path(state) / "config"),
        RAY_AUTH_MODE="disabled",  # a stray ~/.ray/auth_token must not decide
    )
    demo = [GRIDTUI, "demo"]
    subprocess.run([*demo, "start"], check=True, env=env, cwd=state, timeout=300)
    console = None
    windows: list[Window] = []
    results: list[tuple[str, Window, float]] = []
    try:
        console = Console(env, state)
        console.until(
            lambda s: "3/3 up" in s and "connected" in s, "three nodes and Ray", timeout=120
        )
        time.sleep(args.warmup)  # past the heap freeze (10 s) and the first polls
        print(f"console pid {console.pid}, {WIDTH}x{HEIGHT}, windows of {args.seconds:g} s")
        windows.append(Window(console, "dashboard", args.seconds))
        for name, show, close in overlays(console, Path(state) / "bench-pipe"):
            if args.only and not any(name.startswith(o) for o in args.only):
                continue
            show()
            time.sleep(args.settle)  # opening it (mount, first layout) is not idling
            during = Window(console, name, args.seconds)
            close()
            time.sleep(args.settle)
            windows.append(Window(console, "dashboard", args.seconds))
            around = (windows[-2].console + windows[-1].console) / 2
            results.append((name, during, around))
    finally:
        if console is not None:
            console.close()
        subprocess.run([*demo, "stop"], check=False, env=env, cwd=state, timeout=120)
        shutil.rmtree(state, ignore_errors=True)
    idle = statistics.mean(w.console for w in windows)
    print(f"dashboard (mean of {len(windows)} windows): {idle:.2f}% of a core (goal < 3%)")
    emit(
        "console idle on the demo (3 nodes, 5 panes), own process",
        round(idle, 2),
        unit="% of a core",
        goal="< 3%",
        met=idle < 3,
        note=f"mean of {len(windows)} windows of {args.seconds:g} s",
    )
    for name, during, around in results:
        ratio = during.console / around if around > 0 else float("inf")
        print(f"{name:<28} {during.console:6.2f}% vs {around:6.2f}% around it: {ratio:.2f}x")
        emit(
            f"overlay on the demo: {name}",
            round(during.console, 2),
            unit="% of a core",
            baseline=round(around, 2),
            ratio=round(ratio, 2),
            goal="<= 1.3x",
            met=ratio <= 1.3,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
