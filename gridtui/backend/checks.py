"""Where input enters the services: every front's raw values are checked here, once."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gridtui.errors import BadRequest

# The services are imported in each check, not here: a CLI command pays for what it checks.
if TYPE_CHECKING:
    from gridtui.config import ClusterConfig
    from gridtui.policy.job_request import JobRequest
    from gridtui.services.control.requests import Request


def check_request(rtype: str, amount: str | float, ttl: str | float | None) -> Request:
    """Type, amount and TTL of a boost or share, or BadRequest (exit 2) in one line."""
    from gridtui.services.control.requests import check_request

    return check_request(rtype, amount, ttl)


def check_reservation(rtype: str, amount: str, ttl: str | None) -> Request:
    """What a console form holds, parsed as the CLI's arguments are (an empty TTL: none)."""
    return check_request(rtype, amount, ttl or None)


def check_timeout(seconds: str | float) -> float:
    """A request's --timeout: more than 0, at most an hour, or BadRequest (exit 2)."""
    from gridtui.services.control.requests import check_timeout

    return check_timeout(seconds)


def check_node(config: ClusterConfig | None, node: str) -> None:
    """An unknown node name is malformed (exit 2); the message lists the known ones."""
    from gridtui.services.control.requests import check_node

    check_node(config, node)


def check_worker(config: ClusterConfig, node: str) -> None:
    """A node that may be drained: a known one, not the head (else exit 2)."""
    check_node(config, node)
    if node == config.head.name:
        raise BadRequest(f"{node} is the head: it cannot be drained (only workers can)")


def check_strategy_name(strategy: str) -> str:
    from gridtui.services.control.requests import check_strategy_name

    return check_strategy_name(strategy)


def strategies() -> tuple[tuple[str, ...], str]:
    """The sharing strategies, and the default one."""
    from gridtui.policy.scheduler import DEFAULT_STRATEGY, STRATEGIES

    return STRATEGIES, DEFAULT_STRATEGY


def check_key(key: str) -> str:
    """A memory key, or MemoryInputError (exit 2) saying what is wrong with it."""
    from gridtui.services.memory.client import check_key

    return check_key(key)


def check_store(key: str, path: str | os.PathLike[str]) -> Path:
    """The key and the file a store reads; MemoryInputError says what is wrong."""
    from gridtui.services.memory.feed import check_store

    return check_store(key, path)


def check_retrieve(key: str, path: str | os.PathLike[str]) -> Path:
    """The key and the path a retrieve writes; MemoryInputError says what is wrong."""
    from gridtui.services.memory.feed import check_retrieve

    return check_retrieve(key, path)


def check_thresholds(flags: Sequence[str]) -> dict[str, float]:
    """`--threshold` values ({resource: percent}); BadOffloadFlag (exit 2) names a bad one."""
    from gridtui.services.offload.thresholds import parse_thresholds

    return parse_thresholds(flags)


def check_sustain(text: str) -> float:
    from gridtui.services.offload.thresholds import parse_sustain

    return parse_sustain(text)


def check_job(config: ClusterConfig, command: list[str], **kw: Any) -> JobRequest:
    """A job submission's entrypoint and placement; JobInputError (exit 2) if bad."""
    from gridtui.services.work import submit

    return submit.check(config, command, **kw)


def check_job_form(
    config: ClusterConfig, command: str, *, node: str = "", strategy: str = "", cpu: str = "",
    gpu: str = "", memory: str = "",
) -> JobRequest:  # fmt: skip
    """The console's submit form: its texts (the command split as a shell would, empty
    fields unset), then `check_job`; JobInputError, one line, on the first problem."""
    import shlex

    from gridtui.configvalues import parse_size
    from gridtui.model.numbers import parse_float
    from gridtui.services.work.submit import JobInputError

    try:
        words = shlex.split(command)
    except ValueError as exc:
        raise JobInputError(f"the command does not parse: {exc}") from None
    amounts: dict[str, Any] = {}
    for name, text in (("cpu", cpu), ("gpu", gpu), ("memory", memory)):
        if not text.strip():
            continue
        try:
            amounts[name] = (
                parse_size(text.strip()) if name == "memory" else parse_float(text.strip())
            )
        except ValueError as exc:
            raise JobInputError(f"{name}: {exc}") from None
    return check_job(config, words, node=node or None, strategy=strategy or None, **amounts)
