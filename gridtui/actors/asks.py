"""A reservation request as the controller checks it: the spec, what is free, the bundles."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gridtui.model.reservations import KINDS, RAY_RESOURCE, NodeView, Reservation, format_amount
from gridtui.policy.amounts import (
    DEFAULT_TIMEOUT,
    AmountError,
    parse_amount,
    parse_timeout,
    parse_ttl,
    parse_type,
)
from gridtui.policy.scheduler import NoPlacement, check_strategy, choose

_EPS = 1e-9
_FREE = {"cpu": "cpu_free", "gpu": "gpu_free", "memory": "mem_free"}


class Refusal(Exception):
    """A request the cluster turns down: `kind` is unknown (no such node) or refused."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Ask:
    """A checked request: a boost names its node, a share its strategy."""

    kind: str
    type: str
    amount: float
    ttl: float | None
    timeout: float
    node: str = ""
    strategy: str = ""
    owner: str = ""


def parse_spec(spec: Mapping[str, Any]) -> Ask:
    """The request's fields, each checked by the one parser its front used too; raises
    ValueError (AmountError) with one line."""
    kind = str(spec.get("kind", "boost"))
    if kind not in KINDS:
        raise AmountError(f"unknown kind {kind!r}")
    rtype = parse_type(str(spec.get("type", "")))
    return Ask(
        kind=kind,
        type=rtype,
        amount=parse_amount(rtype, spec.get("amount", "")),
        ttl=parse_ttl(spec.get("ttl")),
        timeout=parse_timeout(spec.get("timeout", DEFAULT_TIMEOUT)),
        node=str(spec.get("node", "")) if kind == "boost" else "",
        strategy="" if kind == "boost" else check_strategy(str(spec.get("strategy") or "best-fit")),
        owner=str(spec.get("owner", "")),
    )


def unplaced(
    records: Iterable[Reservation], created: Collection[str]
) -> dict[str, dict[str, float]]:
    """{node: {type: amount}} that pending records take once Ray places their groups: Ray's
    free figures do not show it yet. `created` holds the group ids Ray shows CREATED."""
    out: dict[str, dict[str, float]] = {}
    for r in records:
        if r.state != "pending" or r.pg_id in created:
            continue
        for b in r.bundles:
            per = out.setdefault(b.node, {})
            per[r.type] = per.get(r.type, 0.0) + b.amount
    return out


def adjusted(
    views: Iterable[NodeView],
    held: Mapping[str, Mapping[str, float]],
    busy: Mapping[str, str],
    draining: Collection[str],
) -> list[NodeView]:
    """The views less what pending requests will take, with auto-offload's word on each
    node (`busy`) and the draining ones marked."""
    out = []
    for v in views:
        changes: dict[str, Any] = {}
        for rtype, amount in held.get(v.name, {}).items():
            changes[_FREE[rtype]] = max(0.0, v.free(rtype) - amount)
        if v.name in busy:
            changes["busy"] = busy[v.name]
        if v.name in draining:
            changes["draining"] = True
        out.append(dataclasses.replace(v, **changes) if changes else v)
    return out


def pick(ask: Ask, views: list[NodeView]) -> tuple[list[tuple[str, float]], str]:
    """(bundles, reason) for the request, or a Refusal saying why not."""
    if ask.kind == "share":
        try:
            chosen = choose(views, ask.type, ask.amount, ask.strategy)
        except NoPlacement as exc:
            raise Refusal("refused", str(exc)) from None
        return list(chosen.bundles), chosen.reason
    node, rtype, amount = ask.node, ask.type, ask.amount
    view = next((v for v in views if v.name == node), None)
    if view is None:
        known = ", ".join(v.name for v in views) or "none"
        raise Refusal("unknown", f"no Ray node named {node!r} (Ray has: {known})")
    if view.state == "DOWN":
        raise Refusal("refused", f"{node} is not alive in Ray")
    if view.draining:
        raise Refusal("refused", f"{node} is draining: it takes no new reservations")
    total, free = view.total(rtype), view.free(rtype)
    if total <= 0:
        raise Refusal("refused", f"{node} has no {RAY_RESOURCE[rtype]} in Ray")
    if amount > free + _EPS:
        raise Refusal(
            "refused",
            f"{node} has {format_amount(rtype, free)} free "
            f"(of {format_amount(rtype, total)}); asked {format_amount(rtype, amount)}",
        )
    return [(node, amount)], f"boost on {node}"
