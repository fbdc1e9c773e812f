"""First frame: seconds from process start to the console's first drawn frame, in a pty.

Baseline, in the same run: a bare Textual app that draws one line. The product's goal is
to take under 0.3 s more than the baseline (no pydantic, Ray or asyncssh import before the
first frame). Both run from bytecode, as an installed package does (pip compiles it): with
PYTHONDONTWRITEBYTECODE set and no __pycache__ (a checkout here), every start would compile
gridtui's sources again, ~0.1 s that no user pays; `--as-is` keeps the environment's own
bytecode settings. One untimed round first warms the caches.
Run: .venv/bin/python bench/first_frame.py
"""

from __future__ import annotations

import argparse
import os
import pty
import re
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import emit, quick_arg

ROOT = Path(__file__).resolve().parents[1]
ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]")
BASELINE = (
    "from textual.app import App\n"
    "from textual.widgets import Static\n"
    "class Hello(App):\n"
    "    def compose(self):\n"
    "        yield Static('baseline-ready')\n"
    "Hello().run()\n"
)


def time_to_text(argv: list[str], marker: bytes, env: dict[str, str], timeout: float = 30) -> float:
    """Start argv on a 140x40 pty; return seconds until `marker` is on screen, then kill it."""
    master, slave = pty.openpty()
    os.set_blocking(master, False)
    import fcntl
    import struct
    import termios

    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    seen = b""
    try:
        while time.perf_counter() - start < timeout:
            ready, _, _ = select.select([master], [], [], 0.01)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
                if marker in ANSI.sub(b"", seen):
                    return time.perf_counter() - start
        raise RuntimeError(f"{marker!r} never appeared within {timeout}s")
    finally:
        proc.kill()
        proc.wait()
        os.close(master)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--as-is",
        action="store_true",
        help="the environment's bytecode settings (PYTHONDONTWRITEBYTECODE: compile each start)",
    )
    quick_arg(parser)
    args = parser.parse_args()
    if args.quick:
        args.runs = 2
    state = tempfile.mkdtemp(prefix="gridtui-bench-")
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(TERM="xterm-256color", XDG_STATE_HOME=state)
    if not args.as_is:  # bytecode in the bench's own directory: the source tree stays as it is
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(state) / "pycache")
    gridtui = [
        str(Path(sys.executable).with_name("gridtui")),
        "-c",
        str(ROOT / "config/localhost.yaml"),
    ]
    base = [sys.executable, "-c", BASELINE]
    product_times, base_times = [], []
    for run in range(args.runs + 1):  # interleaved, so both see the same machine load
        b, p = time_to_text(base, b"baseline-ready", env), time_to_text(gridtui, b"Nodes", env)
        if run:  # the first round only warms the caches (and writes the bytecode)
            base_times.append(b)
            product_times.append(p)
    b, p = statistics.median(base_times), statistics.median(product_times)
    print(
        f"bare Textual app, first frame: median {b:.3f}s  (runs: {', '.join(f'{t:.3f}' for t in base_times)})"
    )
    print(
        f"gridtui console, first frame:  median {p:.3f}s  (runs: {', '.join(f'{t:.3f}' for t in product_times)})"
    )
    print(
        f"ratio gridtui / bare Textual: {p / b:.2f}x, {p - b:+.3f}s   "
        f"goal: under 0.3 s more -> {'met' if p - b < 0.3 else 'NOT met'}"
    )
    how = "compiled each start (--as-is)" if args.as_is else "from bytecode"
    emit(
        f"first frame in a pty, {how}",
        round(p, 3),
        unit="s",
        baseline=round(b, 3),
        ratio=round(p / b, 2),
        goal="< bare Textual + 0.3 s",
        met=p - b < 0.3,
        note=f"gap {p - b:+.2f} s, median of {args.runs}",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
