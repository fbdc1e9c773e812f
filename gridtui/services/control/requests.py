"""Reservation requests on the client's side: the controller records a group and answers
at once; its client waits here for Ray to place it, renewing the request's lease, claims it
once placed, and withdraws it when it gives up (timeout, Ctrl-C). A client that vanishes
(SIGKILL, a lost network) stops renewing, and the controller withdraws it within a lease.
A drain is waited for the same way."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from gridtui.config import ClusterConfig
from gridtui.errors import BadRequest, GridError, NotFound, Refused
from gridtui.model.reservations import Reservation
from gridtui.model.wire import WireError
from gridtui.model.wire.control import Claim, ControlCall, DrainProgress, Renew, Reserve, Withdraw
from gridtui.model.wire.control import Drain as DrainCall
from gridtui.policy.amounts import (
    DEFAULT_TIMEOUT,
    AmountError,
    parse_amount,
    parse_timeout,
    parse_ttl,
    parse_type,
)
from gridtui.policy.scheduler import DEFAULT_STRATEGY, check_strategy

# While it waits, a client looks this often (the console and the CLI, through the gateway).
POLL_SECONDS = 0.1
# A wait of this long is said, with its reason (a quick placement says nothing).
NOTICE_AFTER = 1.0
# Renewals per lease: a client about this late still keeps its request.
RENEWALS = 5


R = TypeVar("R")


def error_of(err: WireError) -> GridError:
    """The controller's refusal as the error the fronts report."""
    if err.kind == "malformed":
        return BadRequest(err.message)
    return NotFound(err.message) if err.kind == "unknown" else Refused(err.message)


@dataclass(frozen=True)
class Request:
    """A checked request: what the CLI validates before it connects to anything."""

    type: str
    amount: float
    ttl: float | None


def check_request(rtype: str, amount: str | float, ttl: str | float | None) -> Request:
    """Parse type, amount and TTL or raise BadRequest (exit 2) with one line."""
    try:
        checked = parse_type(rtype)
        return Request(checked, parse_amount(checked, amount), parse_ttl(ttl))
    except AmountError as exc:
        raise BadRequest(str(exc)) from None


def check_timeout(seconds: str | float) -> float:
    """A request's --timeout, more than 0 and at most MAX_TIMEOUT, or BadRequest (exit 2)."""
    try:
        return parse_timeout(seconds)
    except AmountError as exc:
        raise BadRequest(str(exc)) from None


def check_node(config: ClusterConfig | None, node: str) -> None:
    """An unknown node name is malformed (exit 2); the message lists the known ones."""
    if config is not None and node not in {n.name for n in config.nodes}:
        known = ", ".join(n.name for n in config.nodes)
        raise BadRequest(f"unknown node {node!r} (known: {known})")


def check_strategy_name(strategy: str) -> str:
    try:
        return check_strategy(strategy)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


@dataclass(frozen=True)
class Pending:
    """A request the controller recorded: `deadline` (Unix time) ends the client's wait."""

    reservation: Reservation
    lease: float
    deadline: float
    timeout: float

    @property
    def id(self) -> str:
        return self.reservation.id


class Requests:
    """The requesting half of ControlClient (which provides `ask`, `config`, `owner`):
    `request_*` and `poll` are short, so the console and the CLI run them one at a time
    through the gateway and never hold its thread; `settle` (`boost`, `share`) is the
    blocking loop for the Python API."""

    config: ClusterConfig | None
    owner: str
    _renewed: dict[str, tuple[float, Reservation]]

    def ask(self, call: ControlCall[R], *, timeout: float | None = None, retry: bool = True) -> R:
        raise NotImplementedError

    def request_boost(
        self, node: str, request: Request, *, timeout: float = DEFAULT_TIMEOUT
    ) -> Pending:
        """Ask for a checked `request` on `node` (checked where it entered the services:
        gridtui/backend/checks.py, or `boost` below): the controller records it pending."""
        ask = Reserve("boost", request.type, request.amount, request.ttl, timeout, self.owner, node)
        try:
            return self.begin(ask)
        except NotFound:
            if self.config is None:
                raise
            raise Refused(f"{node} is not alive in Ray (Ray has no node of that name)") from None

    def request_share(
        self,
        request: Request,
        strategy: str = DEFAULT_STRATEGY,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        metrics: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> Pending:
        """Ask for a checked `request` on the node(s) `strategy` (checked too) picks now."""
        ask = Reserve(
            "share", request.type, request.amount, request.ttl, timeout, self.owner,
            strategy=strategy,
            metrics={n: dict(m) for n, m in metrics.items()} if metrics else None,
        )  # fmt: skip
        return self.begin(ask)

    # `boost` and `share` are where a Python script's raw values enter the services (the
    # Python API, gridtui/client.py): checked here, once, as the facade checks the fronts'.

    def boost(
        self,
        node: str,
        rtype: str,
        amount: str | float,
        ttl: str | float | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Reservation:
        """Reserve `amount` of `rtype` on `node`; returns once Ray placed it (active)."""
        request = check_request(rtype, amount, ttl)
        check_node(self.config, node)
        pending = self.request_boost(node, request, timeout=check_timeout(timeout))
        return self.settle(pending)

    def share(
        self,
        rtype: str,
        amount: str | float,
        strategy: str = DEFAULT_STRATEGY,
        ttl: str | float | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        metrics: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> Reservation:
        """Reserve `amount` on the node(s) `strategy` picks now; returns once active."""
        request = check_request(rtype, amount, ttl)
        pending = self.request_share(
            request,
            check_strategy_name(strategy),
            timeout=check_timeout(timeout),
            metrics=metrics,
        )
        return self.settle(pending)

    def begin(self, ask: Reserve) -> Pending:
        """Send a checked request; the controller answers at once with a pending record."""
        granted = self.ask(ask, retry=False)
        record = Reservation.from_record(granted.reservation)
        self._renewed[record.id] = (time.monotonic(), record)
        return Pending(record, granted.lease, time.time() + ask.timeout, ask.timeout)

    def poll(self, pending: Pending, wait: float = 0.0) -> Reservation:
        """One look: renew the lease when due; claim it when Ray placed it (then active);
        past the deadline withdraw it and raise Refused. Else the pending record, with
        why it still waits. `wait` (whole seconds, for the blocking loop) waits on Ray for
        the placement; 0 only reads Ray's table."""
        rid = pending.id
        at, record = self._renewed.get(rid, (0.0, pending.reservation))
        if time.monotonic() - at >= pending.lease / RENEWALS:
            record = self._held(Renew(rid))
            self._renewed[rid] = (time.monotonic(), record)
        if record.state != "pending" or _placed(record.pg_id, wait):
            record = self._held(Claim(rid))
            if record.state != "pending":
                self._renewed.pop(rid, None)
                return record
        if time.time() > pending.deadline:
            self.withdraw(rid, f"not placed within {pending.timeout:g}s")
            why = f" ({record.waiting})" if record.waiting else ""
            raise Refused(f"Ray did not place {rid} within {pending.timeout:g}s{why}; withdrawn")
        return record

    def _held(self, call: Renew | Claim) -> Reservation:
        """Renew or claim; a request withdrawn meanwhile is Refused (and forgotten)."""
        try:
            held = self.ask(call)
        except (BadRequest, Refused) as err:  # Ray's own failures pass as they are
            self._renewed.pop(call.rid, None)
            raise Refused(str(err.summary)) from None
        return Reservation.from_record(held.reservation)

    def withdraw(self, rid: str, why: str = "its client gave up") -> None:
        """Remove a request this client will not use; nothing is left of it after."""
        self._renewed.pop(rid, None)
        self.ask(Withdraw(rid, why))

    def settle(self, pending: Pending) -> Reservation:
        """Wait on this thread until Ray placed it (active) or the deadline (Refused); an
        interrupt or any failure withdraws it first."""
        try:
            while True:
                record = self.poll(pending, wait=1.0)
                if record.state != "pending":
                    return record
        except BaseException:
            _quietly(lambda: self.withdraw(pending.id, "its client was interrupted"))
            raise

    # -- drains (gridtui/actors/drain.py) --------------------------------------------------

    def drain_begin(self, node: str) -> dict[str, Any]:
        return self.ask(DrainCall(node), retry=False).record

    def drain_poll(self, node: str, cancel: str = "") -> dict[str, Any]:
        """Renew the drain's lease and read its step (or cancel it, with why)."""
        return self.ask(DrainProgress(node, cancel)).record

    def node_drain(self, node: str) -> dict[str, Any]:
        """Fence, move stored objects off, then Ray's drain, waiting on this thread; an
        interrupt before Ray's drain undoes it."""
        self.drain_begin(node)
        try:
            while True:
                done = drain_done(self.drain_poll(node))
                if done is not None:
                    return done
                time.sleep(POLL_SECONDS * 2)
        except BaseException:
            _quietly(lambda: self.drain_poll(node, "its client was interrupted"))
            raise


def drain_done(view: Mapping[str, Any]) -> dict[str, Any] | None:
    """A drain's final result, None while it runs; Refused when it was withdrawn."""
    step = view.get("step")
    if step == "withdrawn":
        raise Refused(f"the drain of {view.get('node')} was undone: {view.get('withdrawn')}")
    return dict(view) if step == "done" else None


def _placed(pg_id: str, wait: float) -> bool:
    """Whether Ray placed the group: read from its table, or waited for up to `wait`
    seconds (Ray's own wait takes whole seconds; 0 would return at once, placed or not)."""
    import ray
    from ray.util.placement_group import PlacementGroup, placement_group_table

    group = PlacementGroup(ray.PlacementGroupID.from_hex(pg_id))
    if wait >= 1:  # Ray's wait answers at once when it is placed already
        return bool(group.wait(int(wait)))
    return (placement_group_table(group) or {}).get("state") == "CREATED"


def _quietly(fn: Any) -> None:
    try:
        fn()
    except Exception:
        return  # the lease withdraws it anyway
