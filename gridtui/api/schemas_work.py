"""The job submission body: its published schema, and the checks pydantic's types leave."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, StrictFloat, StrictInt, StrictStr, model_validator

from gridtui.api.schemas import SIZE, STRATEGY, Amount, Body, grammar_problem
from gridtui.configvalues import parse_size
from gridtui.errors import BadRequest
from gridtui.policy.job_request import MAX_CPU, MAX_GPU, JobRequest

RID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
WORD = {"type": "string", "minLength": 1, "maxLength": 4096, "pattern": r"^[^\x00]*$"}
ENV_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,127}=[^\x00]{0,4096}$"
MAX_WORDS = 256
MAX_ENV = 64


def _job_schema(schema: dict[str, Any]) -> None:
    schema["properties"] = {
        "command": {
            "type": "array",
            "items": WORD,
            "minItems": 1,
            "maxItems": MAX_WORDS,
            # One word at least with something in it: `sh -c " "` still runs, `" "` does not.
            "contains": {"type": "string", "pattern": r"\S"},
            "description": 'the command and its arguments, one word each: ["python", "run.py"]',
        },
        # The node names are the cluster file's: the app fills them in (contract.py).
        "node": {"type": "string", "description": "run the entrypoint on this node"},
        "strategy": {k: v for k, v in STRATEGY.items() if k != "default"},
        "cpu": {"type": "number", "minimum": 0, "maximum": MAX_CPU},
        "gpu": {"type": "number", "minimum": 0, "maximum": MAX_GPU},
        "memory": SIZE,
        "boost": {"type": "string", "pattern": RID_PATTERN, "description": "a boost of yours"},
        "env": {
            "type": "array",
            "items": {"type": "string", "pattern": ENV_PATTERN},
            "maxItems": MAX_ENV,
            "description": 'environment variables, "NAME=VALUE" each',
        },
        "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 600, "default": 60},
    }
    schema["required"] = ["command"]
    # Each of node, strategy and boost says where the job runs: one at most.
    schema["not"] = {
        "anyOf": [
            {"required": ["node", "strategy"]},
            {"required": ["node", "boost"]},
            {"required": ["strategy", "boost"]},
        ]
    }


class JobBody(Body):
    """Like `gridtui job submit [--node N | --strategy S | --boost ID] [--cpu N] [--gpu N]
    [--memory SIZE] [--env K=V]... -- COMMAND...` (a working dir is the CLI's alone: the
    server would upload a directory of its own machine)."""

    model_config = Body.model_config | {"json_schema_extra": _job_schema}
    command: list[StrictStr] = Field(min_length=1, max_length=MAX_WORDS)
    node: StrictStr | None = None
    strategy: StrictStr | None = None
    cpu: StrictInt | StrictFloat | None = None
    gpu: StrictInt | StrictFloat | None = None
    memory: Amount | None = None
    boost: StrictStr | None = None
    env: list[StrictStr] = Field(default_factory=list, max_length=MAX_ENV)
    timeout: StrictInt | StrictFloat = Field(default=60.0, gt=0, le=600)

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        # The schema has no null: a key given says something, or it is left out.
        if isinstance(data, dict):
            for key, value in data.items():
                if value is None:
                    raise ValueError(f"{key} must not be null (leave it out)")
        return data


def job_kwargs(body: JobBody) -> dict[str, Any]:
    """The CLI's check_job arguments from the body; BadRequest for what the schema refuses
    and pydantic's types let through."""
    for word in body.command:
        if not word or len(word) > 4096 or "\x00" in word:
            raise BadRequest("each command word must hold 1 to 4096 characters and no NUL")
    if body.boost is not None and not re.fullmatch(RID_PATTERN, body.boost):
        raise BadRequest(f"boost {body.boost!r} is not a boost id")
    for pair in body.env:
        if not re.fullmatch(ENV_PATTERN, pair):
            raise BadRequest(f"env {pair[:80]!r} is not NAME=VALUE")
    memory = None
    if body.memory is not None:
        problem = grammar_problem("memory", body.memory, "size")
        if problem is not None:
            raise BadRequest(problem)
        memory = parse_size(body.memory)
    return {
        "node": body.node,
        "strategy": body.strategy,
        "cpu": None if body.cpu is None else float(body.cpu),
        "gpu": None if body.gpu is None else float(body.gpu),
        "memory": memory,
        "boost": body.boost,
        "env": list(body.env),
    }


__all__ = ["JobBody", "JobRequest", "job_kwargs"]
