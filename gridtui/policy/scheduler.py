"""Scheduler strategies: pure functions from a table of node views to bundles and a reason.

Every strategy sees the same table (Ray's free/total resources per node, plus live
utilisation when a console watches the nodes) and never picks a node that is STALE or
DOWN, draining, or that has none of the asked type. Where a strategy allows it, an amount
no single node can hold is split over several nodes, one bundle per node.

- `local-first`: the head, unless it is over its pressure threshold (live utilisation),
  fenced or over a threshold for auto-offload (`NodeView.busy`), or too small; else
  best-fit over the workers. Use it when the work reads the head's disk or talks to the
  driver a lot.
- `best-fit` (default): the node left with the least free after the request; splits
  largest-free first (fewest bundles). Packs small requests so big holes stay for big ones.
- `load-balanced`: the least loaded node (live utilisation, else Ray's reserved share);
  splits least loaded first. Use it for latency-sensitive work on nodes that also run
  unreserved load.
- `spread`: every eligible node, as evenly as possible, one bundle each (whole units
  when the amount is whole). Use it for throughput work that should survive one node
  failing, or that shares disk and network.
- `gpu-affinity`: GPU requests go to the least busy GPU node; CPU and memory requests
  go to nodes without GPUs first, so GPU nodes stay free for GPU work.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gridtui.model.reservations import RAY_RESOURCE, NodeView, format_amount

STRATEGIES = ("local-first", "best-fit", "load-balanced", "spread", "gpu-affinity")
DEFAULT_STRATEGY = "best-fit"
# local-first leaves the head when its live utilisation is at or over this (percent).
PRESSURE = 80.0
# Ray's fixed-point resolution: splits of a fractional amount are cut at this grain.
GRAIN = 0.0001
_EPS = 1e-9
Rank = tuple[Any, ...]


class NoPlacement(ValueError):
    """No eligible node (or set of nodes) can hold the amount; the message says why."""


@dataclass(frozen=True)
class Placement:
    """The strategy's answer: (node, amount) per bundle, and one sentence of why."""

    strategy: str
    type: str
    bundles: tuple[tuple[str, float], ...]
    reason: str

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.bundles)


def usable(view: NodeView) -> bool:
    """UP and not draining: a node that may take new work."""
    return view.state == "UP" and not view.draining


def eligible(views: Iterable[NodeView], rtype: str) -> list[NodeView]:
    """Usable nodes that have some of `rtype` at all and some free now."""
    return [v for v in views if usable(v) and v.total(rtype) > 0 and v.free(rtype) > _EPS]


def _load(view: NodeView, rtype: str) -> float:
    """Live utilisation in percent when known, else Ray's reserved share in percent."""
    live = view.util(rtype)
    return live if live is not None else 100.0 * view.used_fraction(rtype)


def _fmt(rtype: str, amount: float) -> str:
    return format_amount(rtype, amount)


def _figures(views: Sequence[NodeView]) -> str:
    return "live figures" if any(v.live for v in views) else "Ray figures only (no live metrics)"


def _grain(rtype: str, amount: float) -> float:
    """Whole units when the amount is whole (2 CPUs split as 1 + 1, never 1.3 + 0.7)."""
    if rtype == "memory":
        return 1.0
    return 1.0 if abs(amount - round(amount)) < _EPS else GRAIN


def _units(value: float, grain: float) -> int:
    return math.floor(value / grain + 1e-6)


def _fill(order: Sequence[NodeView], rtype: str, amount: float) -> list[tuple[str, float]]:
    """Take from each node in `order` until the amount is met (one bundle per node)."""
    grain = _grain(rtype, amount)
    left = round(amount / grain)
    out: list[tuple[str, float]] = []
    for view in order:
        if left <= 0:
            break
        take = min(left, _units(view.free(rtype), grain))
        if take > 0:
            out.append((view.name, round(take * grain, 4)))
            left -= take
    if left > 0:
        raise _short(order, rtype, amount)
    return out


def _short(views: Sequence[NodeView], rtype: str, amount: float) -> NoPlacement:
    free = sum(v.free(rtype) for v in views)
    each = ", ".join(f"{v.name} {_fmt(rtype, v.free(rtype))}" for v in views[:8])
    more = f" and {len(views) - 8} more" if len(views) > 8 else ""
    return NoPlacement(
        f"only {_fmt(rtype, free)} free on eligible nodes ({each}{more}); "
        f"asked {_fmt(rtype, amount)}"
    )


def _single_or_split(
    pool: Sequence[NodeView],
    rtype: str,
    amount: float,
    rank: Callable[[NodeView], Rank],
    split_order: Callable[[NodeView], Rank],
    split: bool,
) -> tuple[list[tuple[str, float]], bool]:
    """The best-ranked node that holds it all, else (when allowed) a split; (bundles, split)."""
    fits = [v for v in pool if v.free(rtype) + _EPS >= amount]
    if fits:
        best = min(fits, key=rank)
        return [(best.name, amount)], False
    if not split:
        biggest = max(pool, key=lambda v: v.free(rtype))
        raise NoPlacement(
            f"no node has {_fmt(rtype, amount)} free (most: {biggest.name} "
            f"{_fmt(rtype, biggest.free(rtype))})"
        )
    return _fill(sorted(pool, key=split_order), rtype, amount), True


def _best_fit_rank(rtype: str, amount: float) -> Callable[[NodeView], Rank]:
    return lambda v: (v.free(rtype) - amount, _load(v, rtype))


def _describe(bundles: Sequence[tuple[str, float]], rtype: str) -> str:
    return ", ".join(f"{n} ({_fmt(rtype, a)})" for n, a in bundles)


def best_fit(views: Sequence[NodeView], rtype: str, amount: float, split: bool = True) -> Placement:
    pool = eligible(views, rtype)
    if not pool:
        raise _none_eligible(views, rtype)
    bundles, was_split = _single_or_split(
        pool,
        rtype,
        amount,
        _best_fit_rank(rtype, amount),
        lambda v: (-v.free(rtype), v.name),
        split,
    )
    if was_split:
        why = f"no node has {_fmt(rtype, amount)} free; split largest-free first"
    else:
        node = next(v for v in pool if v.name == bundles[0][0])
        left = node.free(rtype) - amount
        why = f"tightest fit: {_fmt(rtype, left)} left free after it"
    return Placement("best-fit", rtype, tuple(bundles), f"{why}; {_figures(pool)}")


def load_balanced(
    views: Sequence[NodeView], rtype: str, amount: float, split: bool = True
) -> Placement:
    pool = eligible(views, rtype)
    if not pool:
        raise _none_eligible(views, rtype)

    def rank(v: NodeView) -> Rank:
        return (_load(v, rtype), -v.free(rtype))

    bundles, was_split = _single_or_split(pool, rtype, amount, rank, rank, split)
    loads = ", ".join(f"{n} {_load(_by_name(pool, n), rtype):.0f}%" for n, _ in bundles)
    what = "live utilisation" if any(v.util(rtype) is not None for v in pool) else "Ray reserved"
    head = "split over the least loaded" if was_split else "least loaded"
    return Placement(
        "load-balanced", rtype, tuple(bundles), f"{head} by {what} ({loads}); {_figures(pool)}"
    )


def spread(views: Sequence[NodeView], rtype: str, amount: float, split: bool = True) -> Placement:
    pool = eligible(views, rtype)
    if not pool:
        raise _none_eligible(views, rtype)
    if not split:
        return load_balanced(views, rtype, amount, split=False)
    grain = _grain(rtype, amount)
    units = round(amount / grain)
    # With fewer units than nodes, the least loaded nodes get one unit each; a node with
    # less than one unit free (half a CPU, for whole CPUs) cannot take part.
    able = [v for v in pool if _units(v.free(rtype), grain) > 0] or pool
    ranked = sorted(able, key=lambda v: (_load(v, rtype), -v.free(rtype), v.name))[:units]
    caps = {v.name: _units(v.free(rtype), grain) for v in ranked}
    if sum(caps.values()) < units:
        raise _short(ranked, rtype, amount)
    # Water-filling: small nodes give what they have, the rest share what remains evenly.
    give: dict[str, int] = {}
    left = units
    by_cap = sorted(ranked, key=lambda v: (caps[v.name], v.name))
    for i, view in enumerate(by_cap):
        share = -(-left // (len(by_cap) - i))
        give[view.name] = min(caps[view.name], share)
        left -= give[view.name]
    bundles = tuple((v.name, round(give[v.name] * grain, 4)) for v in ranked if give[v.name] > 0)
    return Placement(
        "spread",
        rtype,
        bundles,
        f"even over {len(bundles)} of {len(pool)} eligible nodes; {_figures(pool)}",
    )


def local_first(
    views: Sequence[NodeView],
    rtype: str,
    amount: float,
    split: bool = True,
    pressure: float = PRESSURE,
) -> Placement:
    head = next((v for v in views if v.role == "head"), None)
    why: str
    if head is None:
        why = "no head in the table"
    elif head.state != "UP":
        why = f"head {head.name} is {head.state}"
    elif head.draining:
        why = f"head {head.name} is draining"
    elif head.busy:
        why = f"head {head.name} is busy for auto-offload ({head.busy})"
    elif (load := head.util(rtype)) is not None and load >= pressure:
        why = f"head {head.name} is over its pressure threshold ({load:.0f}% >= {pressure:.0f}%)"
    elif head.free(rtype) + _EPS < amount:
        why = f"head {head.name} has only {_fmt(rtype, head.free(rtype))} free"
    else:
        return Placement(
            "local-first",
            rtype,
            ((head.name, amount),),
            f"the head, under its pressure threshold; {_figures(views)}",
        )
    others = [v for v in views if v is not head]
    rest = best_fit(others, rtype, amount, split)
    return Placement("local-first", rtype, rest.bundles, f"{why}; best-fit: {rest.reason}")


def gpu_affinity(
    views: Sequence[NodeView], rtype: str, amount: float, split: bool = True
) -> Placement:
    if rtype == "gpu":
        pool = eligible(views, "gpu")
        if not pool:
            raise _none_eligible(views, "gpu")

        def rank(v: NodeView) -> Rank:
            return (_load(v, "gpu"), -v.free("gpu"), v.name)

        bundles, _ = _single_or_split(pool, "gpu", amount, rank, rank, split)
        return Placement(
            "gpu-affinity",
            rtype,
            tuple(bundles),
            f"least busy GPU node(s): {_describe(bundles, 'gpu')}; {_figures(pool)}",
        )
    plain = [v for v in views if v.gpu_total <= 0]
    try:
        rest = best_fit(plain, rtype, amount, split)
        return Placement(
            "gpu-affinity", rtype, rest.bundles, f"nodes without GPUs first; {rest.reason}"
        )
    except NoPlacement:
        rest = best_fit(views, rtype, amount, split)
        return Placement(
            "gpu-affinity",
            rtype,
            rest.bundles,
            f"nodes without GPUs cannot hold it, so GPU nodes too; {rest.reason}",
        )


def _by_name(views: Sequence[NodeView], name: str) -> NodeView:
    return next(v for v in views if v.name == name)


def _none_eligible(views: Sequence[NodeView], rtype: str) -> NoPlacement:
    if not views:
        return NoPlacement("no nodes to choose from")
    reasons = []
    for v in views[:8]:
        if v.state != "UP":
            reasons.append(f"{v.name} {v.state}")
        elif v.draining:
            reasons.append(f"{v.name} draining")
        elif v.total(rtype) <= 0:
            reasons.append(f"{v.name} has no {RAY_RESOURCE[rtype]}")
        else:
            reasons.append(f"{v.name} has none free")
    more = f" and {len(views) - 8} more" if len(views) > 8 else ""
    return NoPlacement(f"no node can take {rtype} now: {', '.join(reasons)}{more}")


_TABLE: dict[str, Callable[..., Placement]] = {
    "local-first": local_first,
    "best-fit": best_fit,
    "load-balanced": load_balanced,
    "spread": spread,
    "gpu-affinity": gpu_affinity,
}


def check_strategy(name: str) -> str:
    if name not in _TABLE:
        raise ValueError(f"unknown strategy {name!r} (one of: {', '.join(STRATEGIES)})")
    return name


def choose(
    views: Sequence[NodeView],
    rtype: str,
    amount: float,
    strategy: str = DEFAULT_STRATEGY,
    *,
    split: bool = True,
) -> Placement:
    """Bundles for `amount` of `rtype` by `strategy`; raises NoPlacement with the reason."""
    if not (math.isfinite(amount) and amount > 0):
        raise NoPlacement(f"amount must be positive and finite, not {amount!r}")
    return _TABLE[check_strategy(strategy)](views, rtype, amount, split=split)


def place(
    views: Sequence[NodeView], need: Mapping[str, float], strategy: str = DEFAULT_STRATEGY
) -> Placement:
    """One node for one task needing every amount in `need` ({type: amount}): the strategy
    ranks by the scarcest type asked (GPU, else memory, else CPU) among nodes fitting all."""
    asked = {t: a for t, a in need.items() if a > 0}
    if not asked:
        asked = {"cpu": GRAIN}
    primary = next(t for t in ("gpu", "memory", "cpu") if t in asked)
    fits = [v for v in views if usable(v) and all(v.free(t) + _EPS >= a for t, a in asked.items())]
    if not fits:
        short = ", ".join(_fmt(t, a) for t, a in asked.items())
        up = [v for v in views if usable(v)]
        draining = sum(1 for v in views if v.draining)
        but = f", {draining} draining" if draining else ""
        raise NoPlacement(f"no UP node has {short} free now ({len(up)} UP of {len(views)}{but})")
    chosen = choose(fits, primary, asked[primary], strategy, split=False)
    return Placement(chosen.strategy, primary, chosen.bundles, chosen.reason)
