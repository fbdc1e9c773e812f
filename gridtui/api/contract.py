"""The OpenAPI document as a contract: the statuses the guard answers on every route, the
bearer scheme, the cluster's own names, and the event stream's events."""

from __future__ import annotations

from typing import Any

from gridtui.api.errors import ErrorBody, declared
from gridtui.api.guard import mutating
from gridtui.config import ClusterConfig
from gridtui.model.offload import Rule

# What the Authorize button at /docs asks for; the Guard enforces it.
BEARER = {"type": "http", "scheme": "bearer", "description": "`gridtui token create` makes one"}
OPEN = ("/docs", "/docs/oauth2-redirect", "/openapi.json")


def _event(name: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["event", "data"],
        "properties": {
            "event": {"const": name},
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": data,
            },
        },
    }


def _record(*required: str, **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": list(required), "properties": props}


NUMBER, STRING = {"type": "number"}, {"type": "string"}
SNAPSHOT = _record(
    "cluster", "time", "demo", "ray", "nodes",
    cluster=STRING, time=NUMBER, demo={"type": "boolean"},
    ray=_record("connected", "message", connected={"type": "boolean"}, message=STRING),
    nodes={"type": "array", "items": _record("name", "state", name=STRING, state=STRING)},
)  # fmt: skip
ALERT = _record(
    "time", "node", "kind", "message", "severity",
    time=NUMBER, node=STRING, kind=STRING, message=STRING,
    severity={"enum": ["information", "warning", "error"]},
)  # fmt: skip
RESERVATION = _record(
    "seq", "time", "kind", "reservation", "node", "message", "severity",
    seq={"type": "integer"}, time=NUMBER, kind=STRING, reservation=STRING, node=STRING,
    message=STRING, severity={"enum": ["information", "warning", "error"]},
)  # fmt: skip
OFFLOAD = _record(
    "seq", "time", "node", "trigger", "action", "result",
    seq={"type": "integer"}, time=NUMBER, node=STRING, trigger={"type": "object"},
    action=STRING, result=STRING,
)  # fmt: skip
EVENTS = {
    "description": "one server-sent event (`event:` and a JSON `data:` line); comment lines "
    "(`: keepalive`) keep the connection open",
    "oneOf": [
        _event("snapshot", SNAPSHOT),
        _event("alert", ALERT),
        _event("reservation", RESERVATION),
        _event("offload", OFFLOAD),
    ],
}


def contract(schema: dict[str, Any], config: ClusterConfig) -> dict[str, Any]:
    """Complete FastAPI's document: every route's statuses, the scheme, the node names."""
    components = schema.setdefault("components", {})
    components["securitySchemes"] = {"HTTPBearer": BEARER}
    schema["security"] = [{"HTTPBearer": []}]
    guarded = declared(401, 413, 503)
    for path, operations in schema.get("paths", {}).items():
        for method, op in operations.items():
            responses = op.setdefault("responses", {})
            # Bad input is a 400 here (errors.py), never FastAPI's 422.
            responses.pop("422", None)
            if path in OPEN:
                op["security"] = []
                continue
            extra = {**guarded, **(declared(403) if mutating(method.upper(), path) else {})}
            for code, spec in extra.items():
                responses.setdefault(str(code), _ref(spec))
    schemas = components.setdefault("schemas", {})
    schemas.setdefault("ErrorBody", ErrorBody.model_json_schema())
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    _names(schema, config)
    events = schema["paths"]["/events"]["get"]["responses"]["200"]
    events["content"] = {"text/event-stream": {"schema": EVENTS}}
    return schema


def _ref(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": spec["description"],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }


def _names(schema: dict[str, Any], config: ClusterConfig) -> None:
    """The cluster file's nodes and its offload rules, where a body or a query names them."""
    nodes = [n.name for n in config.nodes]
    schemas = schema["components"]["schemas"]
    if "BoostBody" in schemas:
        schemas["BoostBody"]["properties"]["node"]["enum"] = nodes
    store = schema["paths"].get("/memory/{key}", {}).get("put", {})
    for param in store.get("parameters", ()):
        if param["name"] == "node":
            param["schema"] = {"type": "string", "enum": nodes}
    if "JobBody" in schemas:
        schemas["JobBody"]["properties"]["node"]["enum"] = nodes
    work = schema["paths"].get("/work", {}).get("get", {})
    for param in work.get("parameters", ()):
        if param["name"] == "node":
            param["schema"] = {"type": "string", "enum": nodes}
    if "OffloadBody" in schemas:
        rules = config.offload.policy().rules
        limits = schemas["OffloadBody"]["properties"]["thresholds"]["properties"]
        for resource, prop in limits.items():
            # At or under its hysteresis a fence would never lift (offload_policy.changed).
            rule = rules.get(resource) or Rule(100.0)
            prop.update(minimum=1, exclusiveMinimum=rule.hysteresis)
