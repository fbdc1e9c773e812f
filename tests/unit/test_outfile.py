"""Output paths written as `cp` and `curl -o` do: kinds kept, one-line failures, no parts."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridtui import outfile
from gridtui.outfile import Output, OutputError, parts, sweep, write_file


def one_line(exc: pytest.ExceptionInfo[OutputError]) -> str:
    text = str(exc.value)
    assert "\n" not in text and exc.value.exit_code == 1
    return text


def test_a_new_file_gets_the_umask_mode(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_file(tmp_path / "new", b"data")
    finally:
        os.umask(old)
    assert (tmp_path / "new").read_bytes() == b"data"
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == ["new"]


def test_an_existing_file_is_replaced_whole_and_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "f"
    target.write_bytes(b"old contents")
    target.chmod(0o604)
    before = target.stat().st_ino
    with target.open("rb") as reader:
        out = Output(target)
        out.write(b"new")
        assert target.read_bytes() == b"old contents"  # nothing shows before the commit
        out.commit()
        assert reader.read() == b"old contents"  # a reader keeps the file it opened
    assert target.read_bytes() == b"new" and target.stat().st_ino != before
    assert stat.S_IMODE(target.stat().st_mode) == 0o604
    assert os.listdir(tmp_path) == ["f"]


def test_a_discarded_output_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "f"
    target.write_bytes(b"keep me")
    out = Output(target)
    out.write(b"x" * 100_000)
    out.discard()
    assert target.read_bytes() == b"keep me" and os.listdir(tmp_path) == ["f"]
    assert not out.complete


def test_exact_mode_for_secrets(tmp_path: Path) -> None:
    target = tmp_path / "tokens.json"
    target.write_text("{}")
    target.chmod(0o644)
    write_file(target, "{}", mode=0o600, keep_mode=False)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_a_symlink_is_written_through(tmp_path: Path) -> None:
    (tmp_path / "real").write_bytes(b"old")
    (tmp_path / "link").symlink_to("real")
    (tmp_path / "chain").symlink_to(tmp_path / "link")
    write_file(tmp_path / "chain", b"through two links")
    assert (tmp_path / "link").is_symlink() and (tmp_path / "chain").is_symlink()
    assert (tmp_path / "real").read_bytes() == b"through two links"
    (tmp_path / "dangling").symlink_to("made")
    write_file(tmp_path / "dangling", b"new target")
    assert (tmp_path / "dangling").is_symlink()
    assert (tmp_path / "made").read_bytes() == b"new target"


def test_dev_null_stays_a_device() -> None:
    out = Output("/dev/null")
    out.write(b"x" * 1_000_000)
    out.commit()
    assert not out.replaces and out.complete
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_fifo_is_opened_and_its_reader_gets_the_bytes(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(OutputError) as refused:
        Output(fifo, wait=False)
    assert one_line(refused) == f"cannot write {fifo}: it is a FIFO and no process reads it"
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    data = os.urandom(300_000)  # more than a pipe holds: the writer waits for the reader
    write_file(fifo, data)
    reader.join(30)
    assert got == [data] and stat.S_ISFIFO(fifo.stat().st_mode)


def test_dev_full_is_one_line() -> None:
    out = Output("/dev/full")
    with pytest.raises(OutputError) as full:
        out.write(b"x")
    assert one_line(full) == "cannot write /dev/full: No space left on device"
    out.discard()
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def refused(path: str | Path) -> str:
    with pytest.raises(OutputError) as caught:
        write_file(path, b"x")
    return one_line(caught)


def test_every_os_error_is_one_line_naming_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    assert refused("d") == "cannot write d: it is a directory"
    assert refused("missing/out") == "cannot write missing/out: no such directory missing"
    assert refused("/proc/version").startswith("cannot write /proc/version: ")
    assert refused("/sys/kernel/x").startswith("cannot write /sys/kernel/x: ")
    name = "n" * 300
    assert refused(name) == f"cannot write {outfile.shown(name)}: File name too long"
    deep = "/tmp/" + "a/" * 3000 + "x"
    message = refused(deep)
    assert "File name too long" in message and len(message) < 250
    (tmp_path / "loop").symlink_to("loop")
    assert refused("loop") == "cannot write loop: Too many levels of symbolic links"
    with pytest.raises(OutputError, match=r"^no file named$"):
        write_file("", b"x")
    assert sorted(os.listdir(tmp_path)) == ["d", "loop"]  # nothing else was made


def test_permission_denied(tmp_path: Path) -> None:
    if os.geteuid() == 0:  # root passes permission checks: sysfs still refuses new files
        assert refused("/sys/kernel/x") == "cannot write /sys/kernel/x: Permission denied"
        return
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    assert refused(locked / "f") == f"cannot write {locked}/f: Permission denied"
    ro = tmp_path / "ro"
    ro.write_bytes(b"mine")
    ro.chmod(0o444)
    assert refused(ro) == f"cannot write {ro}: Permission denied"
    assert ro.read_bytes() == b"mine"


def test_read_only_file_system(tmp_path: Path) -> None:
    mount = tmp_path / "ro"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(mount)])
    if done.returncode != 0:
        pytest.skip("cannot mount a read-only file system here")
    try:
        assert refused(mount / "f") == f"cannot write {mount}/f: Read-only file system"
    finally:
        subprocess.run(["umount", str(mount)], check=True)


KILLED_WRITER = """
import os, sys
if sys.argv[2] == "named":
    del os.O_TMPFILE
from gridtui.outfile import Output
out = Output(sys.argv[1])
out.write(b"x" * 4_000_000)
print("written", flush=True)
sys.stdin.read()
"""


def killed_mid_write(target: Path, how: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(target), how],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stdout.readline() == b"written\n"
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_a_kill_leaves_no_partial_file(tmp_path: Path) -> None:
    (tmp_path / "old").write_bytes(b"old")
    killed_mid_write(tmp_path / "new", "unnamed")
    killed_mid_write(tmp_path / "old", "unnamed")
    assert os.listdir(tmp_path) == ["old"] and (tmp_path / "old").read_bytes() == b"old"


def test_named_parts_are_swept_by_the_next_write(tmp_path: Path) -> None:
    """Where O_TMPFILE is missing, a kill leaves a named part; the next output into that
    directory removes it, and only parts whose writer on this host is gone."""
    killed_mid_write(tmp_path / "out", "named")
    (part,) = os.listdir(tmp_path)
    assert part.startswith(".out.") and part.endswith(outfile.PART_SUFFIX)
    assert (tmp_path / part).stat().st_size == 4_000_000
    live = f".other.{parts.host_tag()}-{os.getpid()}-0123abcd{outfile.PART_SUFFIX}"
    elsewhere = f".other.ffff-1-0123abcd{outfile.PART_SUFFIX}"
    if parts.host_tag() == "ffff":
        elsewhere = elsewhere.replace("ffff", "fffe")
    for name in (live, elsewhere, ".out.part-1234abcd", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    write_file(tmp_path / "out", b"whole")
    left = sorted(os.listdir(tmp_path))
    assert left == sorted([live, elsewhere, ".out.part-1234abcd", "notes.txt", "out"])
    assert sweep(tmp_path) == []


def test_a_part_name_fits_any_file_system() -> None:
    name = outfile.part_name("é" * 127)  # 254 bytes
    assert len(name.encode()) <= outfile.NAME_MAX and name.endswith(outfile.PART_SUFFIX)
    assert parts.PART.match(name)


def test_check_creates_nothing(tmp_path: Path) -> None:
    assert outfile.check(tmp_path / "f") == tmp_path / "f"
    assert outfile.check("/dev/null") == Path("/dev/null")
    with pytest.raises(OutputError, match="it is a directory"):
        outfile.check(tmp_path)
    with pytest.raises(OutputError, match="no such directory"):
        outfile.check(tmp_path / "no" / "f")
    assert os.listdir(tmp_path) == []


@settings(max_examples=40, deadline=None)
@given(
    chunks=st.lists(st.binary(max_size=5000), max_size=8),
    existing=st.one_of(st.none(), st.binary(max_size=100)),
    commit=st.booleans(),
)
def test_the_file_is_old_or_whole(
    tmp_path_factory: pytest.TempPathFactory,
    chunks: list[bytes],
    existing: bytes | None,
    commit: bool,
) -> None:
    """Whatever is written in whatever pieces: after commit the file is exactly the new
    bytes, after discard exactly what was there (or nothing); never a part beside it."""
    where = tmp_path_factory.mktemp("prop")
    target = where / "f"
    if existing is not None:
        target.write_bytes(existing)
    with Output(target) as out:
        for chunk in chunks:
            out.write(chunk)
        if not commit:
            out.discard()
    if commit:
        assert target.read_bytes() == b"".join(chunks)
    elif existing is None:
        assert not target.exists()
    else:
        assert target.read_bytes() == existing
    assert os.listdir(where) == (["f"] if target.exists() else [])


def test_every_writer_keeps_links_and_modes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cluster file saved from the Offload view, the token file, the demo's state and
    the console's preferences all go through outfile: a symlinked file stays a link (its
    target rewritten), a file keeps its mode (the token file is always 600)."""
    from gridtui.prefs import Prefs
    from gridtui.services.api_tokens import TokenStore
    from gridtui.services.cluster import demo
    from gridtui.services.offload.cluster_file import save_threshold

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    real = dotfiles / "cluster.yaml"
    real.write_text("nodes:\n- {name: ws, host: ws.lab, role: head}\n")
    real.chmod(0o640)
    (tmp_path / "cluster.yaml").symlink_to(real)
    save_threshold(tmp_path / "cluster.yaml", "memory", 70)
    assert (tmp_path / "cluster.yaml").is_symlink() and "memory: 70" in real.read_text()
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert os.listdir(dotfiles) == ["cluster.yaml"]

    tokens = TokenStore()
    tokens.create("read-only")
    assert stat.S_IMODE(tokens.path.stat().st_mode) == 0o600
    tokens.path.chmod(0o644)
    tokens.create("operator")
    assert stat.S_IMODE(tokens.path.stat().st_mode) == 0o600

    demo.write_state({"port": 6391})
    assert demo.read_state() == {"port": 6391}
    prefs_target = tmp_path / "prefs-real.json"
    prefs_target.write_text("{}")
    link = tmp_path / "state" / "gridtui" / "prefs.json"
    link.symlink_to(prefs_target)
    Prefs(link).set("theme", "nord")
    assert link.is_symlink() and Prefs(link).get("theme") == "nord"
    assert Prefs(prefs_target).get("theme") == "nord"
    Prefs(Path("/proc/version")).set("theme", "nord")  # a file that cannot be written: ignored
