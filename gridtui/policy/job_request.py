"""A job submission checked before anything is sent, and the Ray Jobs options it becomes."""

from __future__ import annotations

import json
import math
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gridtui.model.work import META_BOOST, META_OWNER, META_RESOURCES

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PIN = 0.001
"""The share of a node's `node:IP` resource that pins an entrypoint there (Ray's own
idiom: every node has 1 of its own)."""
BOOST_GROUP_ENV = "GRIDTUI_PLACEMENT_GROUP"
BOOST_BUNDLE_ENV = "GRIDTUI_PLACEMENT_BUNDLE"
BOOST_ID_ENV = "GRIDTUI_BOOST"
"""Set in a boosted job's environment: `gridtui.client.job_options()` reads them to run
the job's tasks and actors in the boost's group."""
MAX_CPU = 4096.0
MAX_GPU = 1024.0


class BadJob(ValueError):
    """The submission is malformed: one line, nothing was sent."""


@dataclass(frozen=True)
class JobRequest:
    """What `gridtui job submit` (or POST /jobs) asks, checked."""

    command: tuple[str, ...]
    node: str | None = None
    strategy: str | None = None
    cpu: float | None = None
    gpu: float | None = None
    memory: int | None = None
    boost: str | None = None
    working_dir: str | None = None
    env: tuple[tuple[str, str], ...] = ()

    @property
    def entrypoint(self) -> str:
        """The shell command Ray runs: the words quoted, so each stays one argument."""
        return shlex.join(self.command)

    def need(self) -> dict[str, float]:
        """What the entrypoint asks, as the scheduler's types (cpu, gpu, memory)."""
        return {"cpu": self.cpu or 0.0, "gpu": self.gpu or 0.0, "memory": float(self.memory or 0)}


def _amount(name: str, value: float | None, top: float) -> float | None:
    if value is None:
        return None
    if not math.isfinite(value) or value < 0 or value > top:
        raise BadJob(f"--{name} must be a number from 0 to {top:g}, not {value:g}")
    return float(value)


def parse_env(pairs: Sequence[str]) -> tuple[tuple[str, str], ...]:
    out = []
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or not ENV_NAME.match(key):
            raise BadJob(f"--env takes NAME=VALUE with NAME a shell variable name, not {pair!r}")
        out.append((key, value))
    return tuple(out)


def check_job(
    command: Sequence[str],
    *,
    node: str | None = None,
    strategy: str | None = None,
    cpu: float | None = None,
    gpu: float | None = None,
    memory: int | None = None,
    boost: str | None = None,
    working_dir: str | None = None,
    env: Sequence[str] = (),
    nodes: Sequence[str] = (),
    strategies: Sequence[str] = (),
) -> JobRequest:
    """Every check that needs no cluster: BadJob with one line on the first problem."""
    words = tuple(command)
    if words and words[0] == "--":
        words = words[1:]
    if not words or not any(w.strip() for w in words):
        raise BadJob("no command: give it after `--`, as in `gridtui job submit -- python run.py`")
    if any("\x00" in w for w in words):
        raise BadJob("the command contains a NUL character")
    placed = [f"--{n}" for n, v in (("node", node), ("strategy", strategy), ("boost", boost)) if v]
    if len(placed) > 1:
        raise BadJob(f"{' and '.join(placed)} cannot be combined: each says where the job runs")
    if node is not None and nodes and node not in nodes:
        raise BadJob(f"unknown node {node!r} (known: {', '.join(nodes)})")
    if strategy is not None and strategies and strategy not in strategies:
        raise BadJob(f"unknown strategy {strategy!r} (known: {', '.join(strategies)})")
    if memory is not None and memory < 0:
        raise BadJob("--memory must not be negative")
    return JobRequest(
        command=words,
        node=node,
        strategy=strategy,
        cpu=_amount("cpu", cpu, MAX_CPU),
        gpu=_amount("gpu", gpu, MAX_GPU),
        memory=memory,
        boost=boost,
        working_dir=working_dir,
        env=parse_env(env),
    )


@dataclass(frozen=True)
class BoostPlace:
    """Where a boost's group is: what a boosted job's entrypoint and tasks are given."""

    id: str
    group_id: str
    node_ip: str
    bundle: int = 0


def submit_options(
    request: JobRequest,
    *,
    node_ip: str | None = None,
    boost: BoostPlace | None = None,
    owner: str = "",
    working_dir: str | None = None,
) -> dict[str, Any]:
    """The keyword arguments for `JobSubmissionClient.submit_job`.

    `node_ip`: pin the entrypoint to that node (`--node`, or the node a strategy chose).
    `boost`: pin it to the boost's node and hand the job the group's id, so its tasks
    run in the group (gridtui.client.job_options); the entrypoint itself takes none of
    the boost's resources (a driver holding them would starve its own tasks)."""
    resources: dict[str, float] = {}
    ip = boost.node_ip if boost is not None else node_ip
    if ip:
        resources[f"node:{ip}"] = PIN
    env = dict(request.env)
    metadata = {META_OWNER: owner} if owner else {}
    if boost is not None:
        env.update(
            {
                BOOST_GROUP_ENV: boost.group_id,
                BOOST_BUNDLE_ENV: str(boost.bundle),
                BOOST_ID_ENV: boost.id,
            }
        )
        metadata[META_BOOST] = boost.id
    runtime_env: dict[str, Any] = {}
    if env:
        runtime_env["env_vars"] = env
    if working_dir:
        runtime_env["working_dir"] = working_dir
    asked = {"CPU": request.cpu or 0.0, "GPU": request.gpu or 0.0}
    asked["memory"] = float(request.memory or 0)
    # Ray's job list leaves out what an entrypoint asked: kept in the metadata to show it.
    metadata[META_RESOURCES] = json.dumps({**{k: v for k, v in asked.items() if v}, **resources})
    options: dict[str, Any] = {
        "entrypoint": request.entrypoint,
        "metadata": metadata,
        # Ray's default is 0 for each; a job that asks none is placed by its pin alone.
        "entrypoint_num_cpus": request.cpu or 0,
        "entrypoint_num_gpus": request.gpu or 0,
    }
    if request.memory:
        options["entrypoint_memory"] = int(request.memory)
    if resources:
        options["entrypoint_resources"] = resources
    if runtime_env:
        options["runtime_env"] = runtime_env
    return options


def owner_user(owner: str) -> str:
    """`user@host` of an owner tag (`user@host (cli, pid 12)`): who, whatever the front."""
    return owner.split(" (", 1)[0].strip()


def same_owner(a: str, b: str) -> bool:
    return bool(owner_user(a)) and owner_user(a) == owner_user(b)


def env_pairs(env: Mapping[str, str]) -> list[str]:
    return [f"{k}={v}" for k, v in env.items()]
