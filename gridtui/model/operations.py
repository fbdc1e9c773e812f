"""Cluster operations as the fronts see them: what will run, what it will do, how it ended."""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("start", "stop", "install")


@dataclass(frozen=True)
class Operation:
    """What will run: `kind` is start, stop or install; `node` None means every node."""

    kind: str
    node: str | None = None


@dataclass(frozen=True)
class Plan:
    """Said before an operation runs: a front shows `title` and `lines` and asks yes or no."""

    operation: Operation
    title: str
    lines: tuple[str, ...]
    nodes: tuple[str, ...]
    verb: str
    """The yes button's word: Start, Stop, Install."""
    label: str
    """What runs, as a progress view's title: "Starting Ray on every node"."""
    steps: tuple[str, ...]
    """The steps each node passes (check, start, join...), known up front for its bar."""
    timeout: float


@dataclass(frozen=True)
class Outcome:
    """How an operation ended, in one line."""

    ok: bool
    text: str


@dataclass(frozen=True)
class ShellExit:
    """How an interactive shell on a node ended; `message` is ssh's own last error line."""

    code: int
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.code in (0, 130)
