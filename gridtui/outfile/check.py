"""What writing an output path would do, found without opening anything; its one-line errors."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from gridtui.errors import UserError
from gridtui.outfile.parts import NAME_MAX


class OutputError(UserError):
    """The output path cannot be written: one line naming it and why; nothing changed."""

    exit_code = 1


def why(exc: OSError) -> str:
    return exc.strerror or str(exc)


def shown(path: str | os.PathLike[str]) -> str:
    """A path for a one-line message: whole up to 160 characters, else its two ends."""
    text = os.fspath(path)
    return text if len(text) <= 160 else f"{text[:80]}...{text[-60:]}"


def check(path: str | os.PathLike[str]) -> Path:
    """What an open would refuse, found without creating or opening anything (a dialog's
    check as it is typed). Returns the path, `~` expanded."""
    said = shown(path)
    if not said.strip():
        raise OutputError("no file named")
    p = Path(os.path.expanduser(os.fspath(path)))
    real = os.path.realpath(p)
    try:
        st: os.stat_result | None = os.stat(real)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise OutputError(f"cannot write {said}: {why(exc)}") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError(f"cannot write {said}: it is a directory")
    if st is not None and not stat.S_ISREG(st.st_mode):
        return p  # a device or FIFO: opened and written as it is
    parent = os.path.dirname(real) or "."
    if not os.path.isdir(parent):
        raise OutputError(f"cannot write {said}: no such directory {as_given(path, parent)}")
    if len(os.fsencode(os.path.basename(real))) > name_max(parent):
        raise OutputError(f"cannot write {said}: {os.strerror(errno.ENAMETOOLONG)}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(
            f"cannot write {said}: directory {as_given(path, parent)} is not writable"
        )
    if st is not None and not os.access(real, os.W_OK):
        raise OutputError(f"cannot write {said}: {os.strerror(errno.EACCES)}")
    return p


def effect(path: str | os.PathLike[str]) -> str:
    """What writing `path` will do to what is there, for a dialog's hint ("" for nothing
    there yet); the path is assumed checked."""
    p = os.path.expanduser(os.fspath(path))
    try:
        st = os.stat(p)
    except OSError:
        return ""
    through = f" (through the link to {shown(os.path.realpath(p))})" if os.path.islink(p) else ""
    if stat.S_ISREG(st.st_mode):
        return f"replaces the file there{through}"
    if stat.S_ISFIFO(st.st_mode):
        return f"writes into the FIFO: its reader gets the bytes{through}"
    return f"writes to the device as the bytes come{through}"


def as_given(path: str | os.PathLike[str], directory: str) -> str:
    """The directory as the user wrote it (`out/x` -> `out`) when that is where the file
    goes; a symlink's target directory otherwise."""
    given = os.path.dirname(os.path.expanduser(os.fspath(path))) or "."
    same = os.path.realpath(given) == os.path.realpath(directory)
    return shown(given if same else directory)


def name_max(directory: str) -> int:
    try:
        return int(os.pathconf(directory, "PC_NAME_MAX"))
    except (OSError, ValueError):
        return NAME_MAX
