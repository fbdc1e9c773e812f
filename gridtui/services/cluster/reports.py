"""What cluster operations report: progress, versions, a start's outcome, per-node errors."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from gridtui.errors import UserError
from gridtui.services.cluster.advice import about


@dataclass(frozen=True)
class NodeProgress:
    """One step of one node, for progress bars: state is running, ok, failed or skipped."""

    node: str
    step: str
    state: str
    message: str = ""


Progress = Callable[[NodeProgress], None]


class ClusterError(UserError):
    """A cluster operation refused or failed; `problems` has one line per node."""

    def __init__(self, summary: str, problems: Sequence[str] = ()) -> None:
        super().__init__(summary, problems)
        self.problems = self.details


@dataclass(frozen=True)
class NodeVersion:
    node: str
    python: str = ""
    ray: str | None = None
    executable: str = ""
    problem: str = ""  # one line naming the node, the problem and what to do
    cause: str = ""  # a transport reason, or no-python, venv-missing, ray-missing, ...


@dataclass
class StartReport:
    started: list[str] = field(default_factory=list)
    already_running: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    logs: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed


def log_lines(node: str, logs: Mapping[str, list[str]], per_file: int = 5) -> list[str]:
    """The last lines of each log file, each prefixed with the node and the file."""
    out = []
    for name, lines in logs.items():
        for line in lines[-per_file:]:
            out.append(f"{node} {name}: {line}")
    return out


def describe_failures(report: StartReport) -> list[str]:
    lines = []
    for name, why in report.failed.items():
        lines.append(about(name, why))
        lines += ["  " + ln for ln in log_lines(name, report.logs.get(name, {}))]
    return lines
