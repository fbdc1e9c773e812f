"""The one root error: what reaches a user as one line. Anything else is a bug, logged."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gridtui import paths

BUG_LOG = "gridtui.log"


class GridError(Exception):
    """A failure the user can act on: a one-line `summary`, optional detail lines.

    Fronts catch this class in one place: the CLI prints it and exits with `exit_code`,
    the console shows `summary` as a notification."""

    exit_code = 1
    # The CLI puts this before the report; file:line errors carry their own prefix.
    prefix = "gridtui: "

    def __init__(self, summary: str, details: Sequence[str] = ()) -> None:
        self.summary = summary or self.__class__.__name__
        self.details = list(details)
        super().__init__(self.summary + "".join(f"\n  {d}" for d in self.details))

    def report(self) -> str:
        """Everything the CLI prints: the summary and one indented line per detail."""
        return str(self)

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt field by field: subclasses take other constructor arguments, and errors
        # cross from the console's Ray driver process (services/ray/driver_link.py) by pickle.
        return (_rebuild, (self.__class__, self.summary, self.details, dict(self.__dict__)))


def _rebuild(
    cls: type[GridError], summary: str, details: list[str], state: dict[str, Any]
) -> GridError:
    exc = cls.__new__(cls)
    GridError.__init__(exc, summary, details)
    exc.__dict__.update(state)
    return exc


class UserError(GridError):
    """Bad input, or a target that refused: a clear sentence, nothing changed."""


class UsageError(UserError):
    """A command asked for something that cannot be (an unknown node): exit 2, like a bad
    option or a bad cluster file, so scripts tell it from "the cluster said no" (exit 1)."""

    exit_code = 2


# -- the errors the fronts tell apart (exit codes, REST statuses): defined here, below the
# services that raise them, so the CLI, the console and the API never import a service.


class BadRequest(UserError):
    """A malformed request (type, amount, TTL, node name): nothing was sent to the cluster."""

    exit_code = 2


class Refused(UserError):
    """The cluster refused (not alive, not enough free, unknown id, timeout); nothing left."""

    exit_code = 1


class NotFound(Refused):
    """No reservation (or Ray node) of that name: nothing was changed."""


class ControllerMismatch(UserError):
    """The cluster's controller runs another gridtui version: reported, never used."""


class RayUnavailable(UserError):
    """Ray cannot be reached or answered too slowly; the message says which."""


class MemoryInputError(UserError):
    """Malformed input caught before anything moves: a bad key, file or output path."""

    exit_code = 2


class MemoryRefused(UserError):
    """The cluster turned the request down (or could not serve it); nothing changed."""


class NoSuchObject(MemoryRefused):
    """No object under that key."""


class KeyExists(MemoryRefused):
    """The key is taken (or being stored) and the store did not ask to replace it."""


class BadOffloadFlag(UserError):
    """A threshold or duration that cannot be: refused before the cluster is asked."""

    exit_code = 2


class OwnGroup(UserError):
    """A gridtui group (boost, share, fence) asked to be removed without --force."""


class TokenFileError(UserError):
    """The token file cannot be read or written: the server refuses every request."""


def bug_log_path() -> Path:
    return paths.state_dir() / BUG_LOG


def one_line(exc: BaseException) -> str:
    """A GridError's summary, or for anything else (a bug) its type and first line, with
    the traceback appended to the log and the log's path named."""
    if isinstance(exc, GridError):
        return exc.summary.splitlines()[0]
    first = (str(exc).strip().splitlines() or [""])[0]
    where = log_bug(exc)
    text = f"{exc.__class__.__name__}: {first}" if first else exc.__class__.__name__
    return f"internal error: {text} (details in {where})"


def log_bug(exc: BaseException) -> Path:
    """Append the traceback to the state dir's log; the path is what the user is shown."""
    path = bug_log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write("".join(traceback.format_exception(exc)))
    except OSError:
        logging.getLogger(__name__).exception("could not write %s", path)
    return path
