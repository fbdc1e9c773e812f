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
