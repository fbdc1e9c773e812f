"""Where a memory transfer's bytes come from and go to, a chunk at a time."""

from __future__ import annotations

import contextlib
import io
import os
import select
import stat
import sys
from pathlib import Path
from typing import IO, Any

from gridtui import outfile
from gridtui.errors import MemoryInputError


class ChunkSource:
    """Hands out one chunk at a time from a reused buffer, so a store holds one chunk of
    the file in memory whatever its size. A chunk's view is valid until the next call.

    Pipes and terminals are polled (select) so a stalled writer never blocks the caller:
    the store keeps renewing its lease and can be cancelled while it waits."""

    def __init__(self, stream: IO[bytes] | None, size: int | None, chunk_size: int) -> None:
        self.stream = stream
        self.size = size
        self.chunk_size = chunk_size
        self.eof = False
        self._buf = bytearray(chunk_size)
        self._filled = 0
        self._data: memoryview | None = None
        self._offset = 0
        self._polled = False
        self.name = ""
        if stream is not None:
            with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
                mode = os.fstat(stream.fileno()).st_mode
                self._polled = not stat.S_ISREG(mode) and not stat.S_ISBLK(mode)

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview, chunk_size: int) -> ChunkSource:
        view = memoryview(data).cast("B")
        source = cls(None, len(view), chunk_size)
        source._data = view
        source._buf = bytearray(0)
        source.name = "<bytes>"
        return source

    @classmethod
    def open(cls, path: str | os.PathLike[str], chunk_size: int) -> ChunkSource:
        """A file (checked now, before anything moves) or "-" for standard input."""
        if str(path) == "-":
            # The raw descriptor: a buffered reader would block until a whole chunk came.
            raw = open(sys.stdin.fileno(), "rb", buffering=0, closefd=False)  # noqa: SIM115
            source = cls(raw, None, chunk_size)
            source.name = "<stdin>"
            return source
        p = Path(path)
        try:
            stream = p.open("rb", buffering=0)
        except FileNotFoundError:
            raise MemoryInputError(f"no such file: {p}") from None
        except IsADirectoryError:
            raise MemoryInputError(f"cannot read {p}: it is a directory") from None
        except OSError as exc:
            raise MemoryInputError(f"cannot read {p}: {exc.strerror or exc}") from None
        st = os.fstat(stream.fileno())
        if stat.S_ISDIR(st.st_mode):
            stream.close()
            raise MemoryInputError(f"cannot read {p}: it is a directory")
        source = cls(stream, st.st_size if stat.S_ISREG(st.st_mode) else None, chunk_size)
        source.name = str(p)
        return source

    def next(self, timeout: float = 0.05) -> memoryview | None:
        """The next chunk, or None when a pipe has not filled one yet (or at the end)."""
        if self.eof:
            return None
        if self._data is not None:
            chunk = self._data[self._offset : self._offset + self.chunk_size]
            self._offset += len(chunk)
            if self._offset >= len(self._data):
                self.eof = True
            return chunk if len(chunk) else None
        assert self.stream is not None
        view = memoryview(self._buf)
        wait = timeout
        while self._filled < self.chunk_size:
            if self._polled:
                ready, _, _ = select.select([self.stream], [], [], wait)
                if not ready:
                    return None
                wait = 0.0
            n = self.stream.readinto(view[self._filled :])  # type: ignore[attr-defined]
            if not n:
                self.eof = True
                break
            self._filled += n
        if not self._filled:
            return None
        chunk, self._filled = view[: self._filled], 0
        return chunk

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()


class Sink:
    """Where retrieved chunks go; `commit` once the whole object checked out."""

    _written = 0
    _complete = False

    @property
    def written(self) -> int:
        """Bytes handed on so far."""
        return self._written

    @property
    def complete(self) -> bool:
        """Whether the whole object is where it was sent."""
        return self._complete

    def write(self, data: Any) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        return None

    def discard(self) -> None:
        return None


def check_source(path: str | os.PathLike[str]) -> Path:
    """Refuse a file that cannot be read, without opening it (a pipe's open would block)."""
    p = Path(path).expanduser()
    if not str(path).strip():
        raise MemoryInputError("no file named")
    try:
        st = p.stat()
    except FileNotFoundError:
        raise MemoryInputError(f"no such file: {p}") from None
    except OSError as exc:
        raise MemoryInputError(f"cannot read {p}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise MemoryInputError(f"cannot read {p}: it is a directory")
    if not os.access(p, os.R_OK):
        raise MemoryInputError(f"cannot read {p}: permission denied")
    return p


def check_target(path: str | os.PathLike[str]) -> Path:
    """Refuse an output path that cannot be written, without creating or opening anything
    (OutputError, exit 1); the open itself (FileSink) has the last word."""
    return outfile.check(path)


class FileSink(Sink):
    """Writes to a path as `cp` does (gridtui/outfile.py): a file appears whole, and only
    once the object checked out; a device or FIFO gets the bytes as they come. Opened
    here, before anything moves. `wait`: a FIFO's open waits for its reader (else refused)."""

    def __init__(self, path: str | os.PathLike[str], *, wait: bool = True) -> None:
        self.out = outfile.Output(path, wait=wait)
        self.path = self.out.path

    @property
    def written(self) -> int:
        return self.out.written

    @property
    def complete(self) -> bool:
        return self.out.complete

    @property
    def where(self) -> str:
        return self.out.shown

    def write(self, data: Any) -> None:
        self.out.write(data)

    def commit(self) -> None:
        self.out.commit()

    def discard(self) -> None:
        self.out.discard()

    def left(self, total: int | None) -> str:
        """What an interrupted retrieve left at the path, as a clause of one line."""
        if self.out.replaces or not self.written:
            return f"nothing was written to {self.where}"
        return f"{self.where} got {self.written} of {total} bytes (written as they came)"


class StreamSink(Sink):
    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream

    def write(self, data: Any) -> None:
        self.stream.write(data)
        self._written += len(data)

    def commit(self) -> None:
        self.stream.flush()
        self._complete = True

    def discard(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.stream.flush()


class BufferSink(Sink):
    def __init__(self) -> None:
        self.buffer = io.BytesIO()

    def write(self, data: Any) -> None:
        self.buffer.write(data)

    def value(self) -> bytes:
        return self.buffer.getvalue()
