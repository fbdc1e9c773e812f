"""Output: an output path open for writing, replaced whole at commit or written in place."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path
from typing import Any

from gridtui.outfile.check import OutputError, as_given, name_max, shown, why
from gridtui.outfile.parts import part_name, sweep

# A directory held open for the whole write: the temporary is made, named and renamed in
# it even if it is renamed meanwhile. O_PATH: a directory one may write but not list.
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | getattr(os, "O_PATH", 0)


def _umask() -> int:
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)  # no /proc: the classic read (briefly set, then restored)
    os.umask(mask)
    return mask


class Output:
    """An output path open for writing. `commit` makes it whole under its name; `discard`
    (or any failure before commit) leaves the path as it was, where that can be done.

    - Nothing at the path, or a regular file: the bytes go to a temporary in the same
      directory that becomes the file in one rename at commit; an existing file's mode
      (and, when allowed, owner) is kept. On Linux the temporary is unnamed (O_TMPFILE),
      so no kill leaves a partial file behind; elsewhere it is a named part, swept later.
    - A symlink: its target is written (the link stays a link).
    - A device, FIFO or anything else that is not a directory: opened and written as is,
      as `cp` does (what went out cannot be taken back).
    - A directory: refused."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        mode: int | None = None,
        keep_mode: bool = True,
        wait: bool = True,
    ) -> None:
        self.shown = shown(path)
        if not self.shown.strip():
            raise OutputError("no file named")
        self.path = Path(os.path.expanduser(os.fspath(path)))
        self.written = 0
        self.replaces = False  # True: a file replaced whole at commit (else written in place)
        self._mode, self._keep_mode = mode, keep_mode
        self._fd = -1
        self._dir_fd = -1
        self._part: str | None = None
        self._name = ""
        self._ino: tuple[int, int] | None = None
        self._existing: os.stat_result | None = None
        self._done = False
        self._discarded = False
        real = os.path.realpath(self.path)
        try:
            st: os.stat_result | None = os.stat(real)
        except FileNotFoundError:
            st = None
        except OSError as exc:
            raise self._error(exc) from None
        if st is not None and stat.S_ISDIR(st.st_mode):
            raise OutputError(f"cannot write {self.shown}: it is a directory")
        if st is not None and not stat.S_ISREG(st.st_mode):
            self._open_in_place(real, st, wait)
        else:
            self._open_beside(real, st)

    def _error(self, exc: OSError, directory: str | None = None) -> OutputError:
        if directory is not None and exc.errno in (errno.ENOENT, errno.ENOTDIR):
            where = as_given(self.path, directory)
            return OutputError(f"cannot write {self.shown}: no such directory {where}")
        return OutputError(f"cannot write {self.shown}: {why(exc)}")

    def _open_in_place(self, real: str, st: os.stat_result, wait: bool) -> None:
        flags = os.O_WRONLY | os.O_CLOEXEC | os.O_NOCTTY
        fifo = stat.S_ISFIFO(st.st_mode)
        try:
            # Without `wait`, a FIFO nobody reads is refused at once (ENXIO) rather than
            # holding the caller until a reader comes.
            self._fd = os.open(real, flags | (0 if wait else os.O_NONBLOCK))
            if not wait:
                os.set_blocking(self._fd, True)
        except OSError as exc:
            if fifo and exc.errno == errno.ENXIO:
                raise OutputError(
                    f"cannot write {self.shown}: it is a FIFO and no process reads it"
                ) from None
            raise self._error(exc) from None

    def _open_beside(self, real: str, st: os.stat_result | None) -> None:
        self.replaces, self._existing = True, st
        directory, self._name = os.path.split(real)
        directory = directory or "."
        if st is not None and not os.access(real, os.W_OK):
            # `cp` would be refused too; a rename would slip past the file's own mode.
            raise OutputError(f"cannot write {self.shown}: {os.strerror(errno.EACCES)}")
        if len(os.fsencode(self._name)) > name_max(directory):
            raise OutputError(f"cannot write {self.shown}: {os.strerror(errno.ENAMETOOLONG)}")
        try:
            self._dir_fd = os.open(directory, _DIR_FLAGS)
        except OSError as exc:
            raise self._error(exc, directory) from None
        try:
            self._open_temporary(directory)
        except BaseException:
            self.discard()
            raise

    def _open_temporary(self, directory: str) -> None:
        sweep(directory)
        tmpfile = getattr(os, "O_TMPFILE", 0)
        if tmpfile:
            try:
                flags = tmpfile | os.O_WRONLY | os.O_CLOEXEC
                self._fd = os.open(".", flags, 0o600, dir_fd=self._dir_fd)
            except OSError as exc:
                if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
                    raise self._error(exc) from None
            else:
                if os.path.exists(f"/proc/self/fd/{self._fd}"):
                    return
                os.close(self._fd)  # no /proc to name it by at the end: a named part
                self._fd = -1
        part = part_name(self._name)
        try:
            self._fd = os.open(
                part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600,
                dir_fd=self._dir_fd,
            )  # fmt: skip
        except OSError as exc:
            if exc.errno == errno.ENOENT:  # the directory exists but takes no files (/proc)
                where = as_given(self.path, directory)
                raise OutputError(
                    f"cannot write {self.shown}: {where} takes no new files"
                ) from None
            raise self._error(exc) from None
        self._part = part

    # -- writing -------------------------------------------------------------------------

    def write(self, data: Any) -> None:
        if self._done or self._discarded:
            raise ValueError("the output is closed")
        view = memoryview(data).cast("B")
        try:
            while view:
                n = os.write(self._fd, view)
                view = view[n:]
                self.written += n
        except OSError as exc:
            raise self._error(exc) from None

    def commit(self, *, durable: bool = False) -> None:
        """Make the output whole under its name; an OutputError leaves it as it was.
        `durable`: flushed to disk before the rename, so a crash leaves the old file or the
        new one (for small files that matter; `cp` does not, nor does a retrieve)."""
        if self._done:
            return
        if self._discarded:
            raise ValueError("the output was discarded")
        try:
            if self.replaces:
                self._settle_mode()
                if durable:
                    os.fsync(self._fd)
                self._ino = _inode(os.fstat(self._fd))
                self._link()
            os.close(self._fd)
        except OSError as exc:
            self.discard()
            raise self._error(exc) from None
        except BaseException:
            self.discard()
            raise
        self._fd = -1
        self._done = True
        self._close_dir()

    def _settle_mode(self) -> None:
        st = self._existing
        if st is not None and self._keep_mode:
            if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
                with contextlib.suppress(OSError):
                    os.fchown(self._fd, st.st_uid, st.st_gid)
            os.fchmod(self._fd, stat.S_IMODE(st.st_mode))
        elif self._keep_mode or self._mode is None:  # a new file, as open(2) makes one
            os.fchmod(self._fd, (0o666 if self._mode is None else self._mode) & ~_umask())
        else:
            os.fchmod(self._fd, self._mode)

    def _link(self) -> None:
        if self._part is None:
            # The unnamed temporary gets a name. A new file gets its own at once; a file
            # that exists is replaced by a rename (a link cannot replace), through a part
            # that lives for the two calls between.
            proc = f"/proc/self/fd/{self._fd}"
            if self._existing is None:
                try:
                    os.link(proc, self._name, dst_dir_fd=self._dir_fd, follow_symlinks=True)
                    return
                except FileExistsError:
                    pass  # created meanwhile: replace it like any file
            part = part_name(self._name)
            os.link(proc, part, dst_dir_fd=self._dir_fd, follow_symlinks=True)
            self._part = part
        os.replace(self._part, self._name, src_dir_fd=self._dir_fd, dst_dir_fd=self._dir_fd)
        self._part = None

    def discard(self) -> None:
        """Close without committing: an unnamed temporary vanishes, a named one is removed.
        A device or FIFO keeps what was written to it. Safe to call twice, or after commit."""
        self._discarded = not self._done
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1
        if self._part is not None and self._dir_fd >= 0:
            with contextlib.suppress(OSError):
                os.unlink(self._part, dir_fd=self._dir_fd)
            self._part = None
        self._close_dir()

    def _close_dir(self) -> None:
        if self._dir_fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._dir_fd)
            self._dir_fd = -1

    @property
    def complete(self) -> bool:
        """Whether the output is whole under its name: committed (a signal that came just
        after the rename, before this object heard of it, included)."""
        if self._done:
            return True
        if not self.replaces or self._ino is None:
            return False
        try:
            return _inode(os.stat(os.path.realpath(self.path))) == self._ino
        except OSError:
            return False

    def __enter__(self) -> Output:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        if kind is None and not self._discarded:
            self.commit()
        else:
            self.discard()


def _inode(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


def write_file(
    path: str | os.PathLike[str],
    data: bytes | str,
    *,
    mode: int | None = None,
    keep_mode: bool = True,
) -> None:
    """Write `data` to `path` as a whole (see Output), flushed to disk before the rename.
    `mode` is a new file's (before the umask);
    with `keep_mode=False` it is applied exactly, to an existing file too (secrets)."""
    out = Output(path, mode=mode, keep_mode=keep_mode)
    try:
        out.write(data.encode("utf-8") if isinstance(data, str) else data)
        out.commit(durable=True)
    finally:
        out.discard()
