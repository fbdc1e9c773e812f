"""A request as the controller checks it (no Ray): the spec, what pending requests will
take, draining nodes, the bundles or the refusal."""

from __future__ import annotations

import pytest

from gridtui.actors.asks import Refusal, adjusted, parse_spec, pick, unplaced
from gridtui.model.reservations import Bundle, NodeView, Reservation
from gridtui.policy.amounts import AmountError
from gridtui.policy.scheduler import choose, place

W1 = NodeView("worker-1", "n1", cpu_total=1.0, cpu_free=1.0, mem_total=2e9, mem_free=2e9)
W2 = NodeView("worker-2", "n2", cpu_total=2.0, cpu_free=2.0)


def pending(rid: str, node: str, amount: float, pg: str, state: str = "pending") -> Reservation:
    return Reservation(rid, "boost", "cpu", amount, (Bundle(node, amount),), state, 0.0, pg_id=pg)


def test_a_spec_is_checked_by_the_parsers_the_fronts_use() -> None:
    ask = parse_spec({"node": "worker-1", "type": "CPU", "amount": "0.5", "ttl": "1h"})
    assert (ask.kind, ask.type, ask.amount, ask.ttl, ask.timeout) == ("boost", "cpu", 0.5, 3600, 30)
    share = parse_spec({"kind": "share", "type": "cpu", "amount": 2, "timeout": 5})
    assert (share.strategy, share.node, share.timeout) == ("best-fit", "", 5.0)
    for bad, message in [
        ({"kind": "lease", "type": "cpu", "amount": 1}, "unknown kind"),
        ({"type": "cpu", "amount": 1, "timeout": 1e8}, "at most 3600"),
        ({"type": "cpu", "amount": 1, "ttl": ""}, "TTL is empty"),
        ({"type": "cpu", "amount": 1, "ttl": "60d"}, "over the limit"),
    ]:
        with pytest.raises(AmountError, match=message):
            parse_spec(bad)


def test_what_pending_requests_take_counts_until_ray_shows_them_placed() -> None:
    mine = [pending("b1", "worker-1", 1.0, "pg1"), pending("b2", "worker-2", 0.5, "pg2")]
    assert unplaced(mine, created=set()) == {"worker-1": {"cpu": 1.0}, "worker-2": {"cpu": 0.5}}
    # Once CREATED, Ray's free figures show it: counting it again would refuse for nothing.
    assert unplaced(mine, created={"pg1"}) == {"worker-2": {"cpu": 0.5}}
    assert unplaced([pending("b3", "worker-1", 1.0, "pg3", "active")], set()) == {}


def test_the_last_cpu_cannot_go_twice_while_the_first_request_waits_for_ray() -> None:
    views = adjusted([W1, W2], unplaced([pending("b1", "worker-1", 1.0, "pg1")], set()), {}, ())
    ask = parse_spec({"node": "worker-1", "type": "cpu", "amount": 1})
    with pytest.raises(Refusal, match=r"^worker-1 has 0 CPU free \(of 1 CPU\); asked 1 CPU$"):
        pick(ask, views)


def test_a_draining_node_is_refused_at_once_and_skipped_by_every_strategy() -> None:
    views = adjusted([W1, W2], {}, {"worker-1": "fenced"}, {"worker-2"})
    assert views[0].busy == "fenced" and not views[0].draining and views[1].draining
    ask = parse_spec({"node": "worker-2", "type": "cpu", "amount": 1})
    with pytest.raises(Refusal, match=r"^worker-2 is draining: it takes no new reservations$"):
        pick(ask, views)
    for strategy in ("best-fit", "spread", "load-balanced", "local-first", "gpu-affinity"):
        assert "worker-2" not in choose(views, "cpu", 1, strategy).nodes, strategy
    assert place(views, {"cpu": 1}).nodes == ("worker-1",)
    only = adjusted([W2], {}, {}, {"worker-2"})
    with pytest.raises(ValueError, match="worker-2 draining"):
        choose(only, "cpu", 1)
    with pytest.raises(ValueError, match=r"\(0 UP of 1, 1 draining\)"):
        place(only, {"cpu": 1})
