"""The typed protocols to the controller and the memory host, without Ray: the codec both
ways, each request reaching its typed method on the actor's side, and refusals raised
on the caller's side as the GridError the fronts report."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from gridtui.actors.asks import Refusal
from gridtui.actors.controller import GridController
from gridtui.actors.memory_host import MemoryHost
from gridtui.actors.memory_index import Refused as IndexRefused
from gridtui.errors import BadRequest, NotFound, Refused
from gridtui.model.reservations import Bundle, Reservation
from gridtui.model.wire import Wire, WireError, WireMismatch, answer, answer_type, decode, encode
from gridtui.model.wire import control as wc
from gridtui.model.wire import memory as wm
from gridtui.services.control.client import ControlClient
from gridtui.services.control.requests import Request
from gridtui.services.memory.handles import KeyExists, MemoryRefused, NoSuchObject, RayMemory

RECORD = Reservation(
    id="b1", kind="boost", type="cpu", amount=1.0, bundles=(Bundle("worker-1", 1.0, "n1"),),
    state="pending", created=5.0, pg_id="pg1",
)  # fmt: skip


def test_a_value_crosses_as_tagged_builtins_and_comes_back_as_this_sides_class() -> None:
    ask = wc.Reserve("boost", "cpu", 1.0, None, 30.0, "ann", node="worker-1")
    data = encode(ask)
    assert data["__type__"] == "Reserve" and data["type"] == "cpu"
    assert all(type(v) in (str, float, type(None)) for v in data.values())
    assert decode(data, wc.CALLS) == ask
    assert answer_type(ask) is wc.Granted and answer_type(wm.Lookup("k")) is wm.Version


def test_data_of_another_kind_or_shape_is_a_mismatch_not_a_crash() -> None:
    with pytest.raises(WireMismatch, match="got 'Explode'"):
        decode({"__type__": "Explode"}, wc.CALLS)
    with pytest.raises(WireMismatch, match="Renew"):
        decode({"__type__": "Renew"}, wc.CALLS)  # a field missing
    with pytest.raises(WireMismatch):
        decode("not a dict", wc.CALLS)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        encode({"__type__": "Renew", "rid": "b1"})
    refusal = answer(encode(WireError("unknown", "no b9")), wc.Renew("b9"))
    assert refusal == WireError("unknown", "no b9")
    with pytest.raises(WireMismatch):  # the answer of another request
        answer(encode(wc.Placed("w", "n", "r")), wc.Renew("b1"))


class Desk:
    """GridController's party methods as a test sees them: a refusal, or a record."""

    def __init__(self) -> None:
        self.asked: list[object] = []

    def reserve(self, ask: wc.Reserve) -> wc.Granted:
        self.asked.append(ask)
        if ask.amount > 4:
            raise Refusal("refused", "worker-1 has 4 CPU free (of 4 CPU); asked 8 CPU")
        return wc.Granted(RECORD.to_record(), 5.0)

    def renew(self, ask: wc.Renew) -> wc.Held:
        raise Refusal("unknown", f"{ask.rid} is gone: withdrawn")

    def plan(self, ask: wc.Plan) -> wc.Planned:
        raise Refusal("malformed", "unknown strategy 'fastest'")

    def snapshot(self, ask: wc.Snapshot) -> wc.Booked:
        return wc.Booked(10.0, "9.9", "e1", [RECORD.to_record()], [])


class Handle:
    """An actor handle whose `call` runs GridController's own `call` on `party`."""

    def __init__(self, party: object, entry: Callable[[Any, Wire], Wire]) -> None:
        self.call = self
        self._party, self._entry = party, entry

    def remote(self, data: Wire) -> Wire:
        return self._entry(self._party, data)


class LocalClient(ControlClient):
    def __init__(self, party: object) -> None:
        super().__init__(None, owner="ann")
        self._fake = Handle(party, GridController.call)

    def _raw(self, send: Callable[[Any], Any], timeout: float | None, retry: bool = True) -> Any:
        return send(self._fake)


def test_the_controllers_answers_and_refusals_reach_the_client_typed() -> None:
    desk = Desk()
    client = LocalClient(desk)
    pending = client.request_boost("worker-1", Request("cpu", 1.0, None), timeout=30)
    assert pending.reservation == RECORD and pending.lease == 5.0
    assert desk.asked == [wc.Reserve("boost", "cpu", 1.0, None, 30.0, "ann", node="worker-1")]
    with pytest.raises(Refused, match="asked 8 CPU") as refused:
        client.request_boost("worker-1", Request("cpu", 8.0, None))
    assert type(refused.value) is Refused
    with pytest.raises(BadRequest, match="unknown strategy"):
        client.ask(wc.Plan("cpu", 1.0, "best-fit"))
    with pytest.raises(NotFound, match="b1 is gone"):
        client.ask(wc.Renew("b1"))
    snap = client.snapshot()
    assert snap.controller_version == "9.9" and [r.id for r in snap.reservations] == ["b1"]


def test_a_request_checked_by_the_client_never_reaches_the_controller() -> None:
    desk = Desk()
    with pytest.raises(BadRequest):
        LocalClient(desk).boost("worker-1", "cpu", "-1")
    assert desk.asked == []


class Index:
    """MemoryHost's party methods as a test sees them."""

    async def _ensure(self) -> None:
        return None

    async def lookup(self, ask: wm.Lookup) -> wm.Version:
        if ask.key == "taken":
            raise IndexRefused("key 'taken' exists", "exists")
        if ask.key == "boom":
            raise RuntimeError("Traceback...\nray.exceptions.RayActorError: its shard died")
        raise IndexRefused(f"no object {ask.key!r}", "unknown")

    async def transactions(self, ask: wm.ListTransactions) -> wm.Transactions:
        return wm.Transactions([{"txid": "t1"}])


def host_answer(call: wm.MemoryCall[Any]) -> Wire:
    return asyncio.run(MemoryHost.call(Index(), encode(call)))  # type: ignore[arg-type]


def test_the_memory_hosts_refusals_are_raised_by_kind() -> None:
    assert RayMemory.receive(wm.ListTransactions(), host_answer(wm.ListTransactions())) == (
        wm.Transactions([{"txid": "t1"}])
    )
    for key, error in (("taken", KeyExists), ("gone", NoSuchObject), ("boom", MemoryRefused)):
        with pytest.raises(error) as caught:
            RayMemory.receive(wm.Lookup(key), host_answer(wm.Lookup(key)))
        assert type(caught.value) is error
    assert str(caught.value) == "ray.exceptions.RayActorError: its shard died"


def test_every_request_names_its_answer_and_its_party_method() -> None:
    for party, calls in ((wc.ControllerParty, wc.CALLS), (wm.MemoryParty, wm.CALLS)):
        methods = {name for name in vars(party) if not name.startswith("_")}
        assert len(methods) == len(calls)
        for call in calls:
            fields = {f.name: None for f in dataclasses.fields(call)}  # type: ignore[arg-type]
            assert isinstance(answer_type(call(**fields)), type), call
