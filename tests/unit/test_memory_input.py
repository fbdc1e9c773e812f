"""Memory store input: keys, sources, output files, and the CLI refusals that need no cluster."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from gridtui.model.objects import KEY_MAX, key_problem
from gridtui.outfile import OutputError
from gridtui.services.memory.io import ChunkSource, FileSink, MemoryInputError

GRIDTUI = [sys.executable, "-m", "gridtui"]


def test_keys() -> None:
    assert key_problem("models/v3:weights@2024+beta=1_x.bin") is None
    assert key_problem("") == "a key cannot be empty"
    assert (
        key_problem("k" * (KEY_MAX + 1))
        == f"a key is at most {KEY_MAX} characters (this one has 201)"
    )
    assert key_problem("a b\t") == (
        "key 'a b\\t' has characters outside letters, digits and . _ - / : @ + =: ' ' '\\t'"
    )
    assert key_problem("-flag") == "key '-flag' must start with a letter or a digit"
    assert key_problem("é") is not None


def drain(source: ChunkSource) -> list[bytes]:
    out = []
    while not source.eof:
        chunk = source.next(1.0)
        if chunk is not None:
            out.append(bytes(chunk))
    return out


def test_file_source_reuses_one_buffer(tmp_path: Path) -> None:
    data = os.urandom(10_000)
    (tmp_path / "f").write_bytes(data)
    source = ChunkSource.open(tmp_path / "f", 4096)
    assert source.size == 10_000
    chunks = drain(source)
    assert [len(c) for c in chunks] == [4096, 4096, 1808] and b"".join(chunks) == data
    assert len(source._buf) == 4096


def test_pipe_source_waits_without_blocking() -> None:
    r, w = os.pipe()
    source = ChunkSource(os.fdopen(r, "rb", buffering=0), None, 4096)
    os.write(w, b"x" * 100)
    assert source.next(0.05) is None  # a partial chunk: keep waiting, never block
    os.write(w, b"y" * 5000)
    assert bytes(source.next(1.0) or b"") == b"x" * 100 + b"y" * 3996
    writer = threading.Thread(target=lambda: (os.write(w, b"z" * 10), os.close(w)))
    writer.start()
    assert b"".join(drain(source)) == b"y" * 1004 + b"z" * 10
    writer.join()


def test_bytes_source_is_not_copied() -> None:
    data = bytearray(b"abcdefghij")
    source = ChunkSource.from_bytes(data, 4)
    first = source.next()
    assert first is not None and first.obj is data
    assert [bytes(first), *drain(source)] == [b"abcd", b"efgh", b"ij"]


def test_file_sink_appears_only_on_commit(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    sink = FileSink(target)
    sink.write(b"partial")
    assert not target.exists()
    sink.discard()
    assert list(tmp_path.iterdir()) == []
    sink = FileSink(target)
    sink.write(b"whole")
    sink.commit()
    assert target.read_bytes() == b"whole" and list(tmp_path.iterdir()) == [target]


def test_bad_sources_and_targets(tmp_path: Path) -> None:
    with pytest.raises(MemoryInputError, match=f"no such file: {tmp_path}/nope"):
        ChunkSource.open(tmp_path / "nope", 10)
    with pytest.raises(MemoryInputError, match="it is a directory"):
        ChunkSource.open(tmp_path, 10)
    with pytest.raises(OutputError, match=f"no such directory {tmp_path}/missing$") as bad:
        FileSink(tmp_path / "missing" / "out")
    assert bad.value.exit_code == 1  # the target refused: exit 1 (bad usage is 2)


def test_file_sink_keeps_what_is_at_the_path(tmp_path: Path) -> None:
    """What `memory retrieve -o` met: a device, a FIFO and a symlink are written as they
    are, never replaced by a regular file; a directory is refused before anything moves."""
    sink = FileSink("/dev/null")
    sink.write(b"x" * 1000)
    sink.commit()
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    (tmp_path / "real").write_bytes(b"old")
    (tmp_path / "link").symlink_to("real")
    sink = FileSink(tmp_path / "link")
    sink.write(b"new")
    sink.commit()
    assert (tmp_path / "link").is_symlink() and (tmp_path / "real").read_bytes() == b"new"
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    sink = FileSink(fifo)
    sink.write(b"through")
    sink.commit()
    reader.join(30)
    assert got == [b"through"] and stat.S_ISFIFO(fifo.stat().st_mode)
    with pytest.raises(OutputError, match="it is a directory"):
        FileSink(tmp_path)
    full = FileSink("/dev/full")
    with pytest.raises(OutputError, match=r"^cannot write /dev/full: No space left on device$"):
        full.write(b"x")


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GRIDTUI_CONFIG": str(cwd / "no-such-cluster.yaml")}
    return subprocess.run(
        [*GRIDTUI, *args], capture_output=True, text=True, timeout=60, cwd=cwd, env=env
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["store", "k", "nope.bin"], "no such file: nope.bin"),
        (["store", "k", "."], "cannot read .: it is a directory"),
        (["store", "", "f.bin"], "a key cannot be empty"),
        (["store", "k" * 201, "f.bin"], "a key is at most 200 characters (this one has 201)"),
        (["store", "a b", "f.bin"], "key 'a b' has characters outside letters, digits and"),
        (["info", "bad key"], "key 'bad key' has characters outside"),
        (["delete", ""], "a key cannot be empty"),
    ],
)
def test_cli_refuses_before_reaching_a_cluster(
    tmp_path: Path, args: list[str], message: str
) -> None:
    """Each is one line and exit 2, and the cluster lookup (which would fail here on the
    missing cluster file) is never reached."""
    (tmp_path / "f.bin").write_bytes(b"data")
    result = cli("memory", *args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"gridtui: {message}"), lines


def test_retrieve_refuses_binary_to_a_terminal(tmp_path: Path) -> None:
    pexpect = pytest.importorskip("pexpect")
    env = {**os.environ, "GRIDTUI_CONFIG": str(tmp_path / "none.yaml")}
    child = pexpect.spawn(
        GRIDTUI[0], [*GRIDTUI[1:], "memory", "retrieve", "k"], env=env, cwd=str(tmp_path)
    )
    child.expect(pexpect.EOF, timeout=60)
    child.close()
    assert child.exitstatus == 2
    assert "refusing to write binary data to a terminal: use -o FILE" in child.before.decode()


def test_progress_line_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from gridtui.commands.memory_cmd import ProgressLine
    from gridtui.model.objects import TransferProgress

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    bar = ProgressLine()
    bar(TransferProgress("k", "store", 50 * 1024**2, 200 * 1024**2, 2.0))
    bar.close()
    err = capsys.readouterr().err
    assert "store k [######..................]  25.0% 50.0 MiB/200.0 MiB 25.0 MiB/s" in err
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    quiet = ProgressLine()
    quiet(TransferProgress("k", "store", 1, 2, 1.0))
    assert capsys.readouterr().err == ""
