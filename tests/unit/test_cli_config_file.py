"""The file around the config: anything that is not a small regular UTF-8 YAML file is one
line and exit 2, in bounded time and memory, from every command (issue 7, classes 3 and 6)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gridtui.cli import main
from gridtui.configfile import MAX_BYTES, MAX_NODES, MAX_PROBLEMS

GOOD = "nodes:\n  - {name: a, host: 127.0.0.2}\n"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def fifo(tmp: Path) -> Path:
    path = tmp / "pipe.yaml"
    os.mkfifo(path)  # nobody ever writes: opening it for reading would block forever
    return path


def loop(tmp: Path) -> Path:
    (tmp / "a.yaml").symlink_to(tmp / "b.yaml")
    (tmp / "b.yaml").symlink_to(tmp / "a.yaml")
    return tmp / "a.yaml"


def through_a_file(tmp: Path) -> Path:
    (tmp / "plain").write_text(GOOD)
    return tmp / "plain" / "c.yaml"


def sparse(size: int) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        path = tmp / "big.yaml"
        with path.open("wb") as f:
            f.truncate(size)  # no blocks written: a 50 GB file costs nothing to make
        return path

    return make


def written(data: bytes) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        path = tmp / "c.yaml"
        path.write_bytes(data)
        return path

    return make


BOMB = b"a: &a [x, x, x, x, x, x, x, x, x, x]\n" + b"".join(
    f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n".encode()
    for p, c in zip("abcdefg", "bcdefgh", strict=True)
)
MANY_NODES = b"nodes:\n" + b"".join(
    f"  - {{name: n{i}, host: h{i}}}\n".encode() for i in range(MAX_NODES + 1)
)

# (how to make the path, the one line after "PATH" or "PATH:LINE").
CASES = [
    (lambda t: t / "nope.yaml", ": no such file"),
    (lambda t: t, ": is a directory, not a cluster file"),
    (fifo, ": is a named pipe (FIFO), not a cluster file"),
    (lambda t: Path("/dev/null"), ": is a character device, not a cluster file"),
    (lambda t: Path("/dev/zero"), ": is a character device, not a cluster file"),
    (loop, ": too many symbolic links (a symlink loop?)"),
    (through_a_file, ": a part of the path is a file, not a directory"),
    (sparse(MAX_BYTES + 1), f": too large for a cluster file ({MAX_BYTES + 1} bytes; at most 1024 KiB)"),
    (sparse(50 * 1024**3), f": too large for a cluster file ({50 * 1024**3} bytes; at most 1024 KiB)"),
    (written(b"nodes:\n  - {name: \xff}\n"), ":2: not UTF-8 text: byte 0xff at offset 18 (column 12); save the file as UTF-8"),
    (written(GOOD.encode("utf-16")), ":1: not UTF-8 text: byte 0xff at offset 0 (column 1); save the file as UTF-8"),
    (written(b"nodes:\n  - {name: a\x07}\n"), ":2: a control character (U+0007) is not allowed in YAML text"),
    (written(b"name: x\nnodes:\n  - {name: a, host: h}\nname: y\n"), ":4: duplicate key 'name' (also at line 1); YAML would silently keep the last one: remove one"),
    (written(b"nodes:\n  - name: a\n    host: h\n    port: 22\n    port: 23\n"), ":5: duplicate key 'port' (also at line 4); YAML would silently keep the last one: remove one"),
    (written(b"nodes:\n  - {name: a, host: h}\ndemo: yes\ndemo: true\n"), ":4: duplicate key 'demo' (also at line 3); YAML would silently keep the last one: remove one"),
    (written(BOMB + GOOD.encode()), ":5: too many values (more than 100000 after YAML aliases are expanded)"),
    (written(b"a: &a [*a]\n" + GOOD.encode()), ":1: a YAML alias refers to itself"),
    (written(b"a: " + b"[" * 40 + b"]" * 40 + b"\n" + GOOD.encode()), ":1: nested more than 16 levels deep"),
    (written(b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n"), ":1: YAML syntax: exceeded maximum nesting depth"),
    (written(MANY_NODES), f":1: nodes: {MAX_NODES + 1} nodes; gridtui runs at most {MAX_NODES}"),
    (written(b"nodes:\n  - {name: a, host: h, port: 1" + b"0" * 5000 + b"}\n"), ":2: YAML syntax: cannot read this value: Exceeds the limit (4300 digits) for integer string conversion"),
    (written(b"name: 2024-13-45\n" + GOOD.encode()), ":1: YAML syntax: cannot read this value: month must be in 1..12"),
    (written(b"nodes:\n  - {name: a, host: [\n"), ":3: YAML syntax: did not find expected node content"),
    (written(b""), ":1: the file is empty; it needs at least `nodes:`"),
]  # fmt: skip


@pytest.mark.parametrize(("make", "problem"), CASES)
@pytest.mark.parametrize("command", [["config", "check"], ["cluster", "status"]])
def test_bad_file_is_one_line_and_exit_2(
    make: Callable[[Path], Path],
    problem: str,
    command: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = make(tmp_path)
    code, out, err = run([*command, "-c", str(path)], capsys)
    assert (code, out) == (2, "")
    assert err.startswith(f"{path}{problem}"), err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(GOOD)
    path.chmod(0)
    assert run(["config", "check", "-c", str(path)], capsys) == (
        2,
        "",
        f"{path}: permission denied\n",
    )


def test_a_fifo_from_the_environment_does_not_block(tmp_path: Path) -> None:
    """Through the real entry point: a FIFO named by $GRIDTUI_CONFIG is refused at once (the
    subprocess' timeout is only there so a regression fails instead of hanging)."""
    path = fifo(tmp_path)
    env = {**os.environ, "GRIDTUI_CONFIG": str(path), "PYTHONPATH": os.getcwd()}
    done = subprocess.run(
        [sys.executable, "-m", "gridtui", "cluster", "status"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"{path}: is a named pipe (FIFO), not a cluster file\n"


def test_an_empty_path_is_refused_never_another_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "gridtui.yaml").write_text(GOOD)  # the lookup order would find this one
    monkeypatch.chdir(tmp_path)
    for argv in (["config", "check", "-c", ""], ["-c", "", "config", "check"]):
        code, out, err = run(argv, capsys)
        assert (code, out) == (2, "")
        assert "the path is empty" in err and err.count("\n") == 1


def test_no_cluster_file_is_exit_2_for_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GRIDTUI_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # no demo to fall back on
    for argv in (
        ["config", "check"],
        ["cluster", "status"],
        ["cluster", "start"],
        ["cluster", "stop"],
        ["cluster", "install"],
        ["cluster", "logs", "--node", "a"],
    ):
        code, out, err = run(argv, capsys)
        assert (code, out) == (2, ""), argv
        assert err.startswith("gridtui: no cluster file (-c FILE") and err.count("\n") == 1


def test_problems_beyond_the_cap_are_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "nodes:\n" + "".join(f"  - {{name: n{i}, host: h, port: 0}}\n" for i in range(80))
    )
    code, _, err = run(["config", "check", "-c", str(path)], capsys)
    lines = err.splitlines()
    assert code == 2 and len(lines) == MAX_PROBLEMS + 1
    assert lines[0].startswith(f"{path}:2: nodes[0].port: 0 is out of range")
    assert lines[-1] == f"(and {80 - MAX_PROBLEMS} more problems)"
