"""The auto-offload engine: samples watched nodes, runs the pure policy, fences and lifts.

It lives in the GridController (ticked from its loop), so it works with no console open.
Ray's placement group table is the truth for fences (`gridtui:fence:<node>`, detached), so
a restarted controller finds them by name; the policy and the bounded event log are kept
in Ray's KV."""

from __future__ import annotations

import dataclasses
import json
import math
import threading
import time
from collections import deque
from typing import Any

import ray

from gridtui.actors import cluster, fences, ray_private, registry
from gridtui.actors import offload_kept as kept
from gridtui.actors.asks import Refusal
from gridtui.actors.memory_index import human
from gridtui.actors.offload_readings import Readings
from gridtui.actors.still_running import StillRunningReader
from gridtui.model.offload import (
    HEAD,
    RESOURCES,
    OffloadAction,
    OffloadEvent,
    OffloadPolicy,
    Trigger,
)
from gridtui.model.wire import WireError, answer, encode
from gridtui.model.wire.memory import Evacuate
from gridtui.policy.offload import OffloadState, decide, restart, restore

EVENT_LIMIT = 500
# A spill moves objects one at a time; a whole node's worth may take this long.
MOVE_TIMEOUT = 600.0
# A fence that failed is tried again this often while its node stays over a threshold.
FENCE_RETRY = 10.0
# Seconds after a fence (or top-up) is placed before free CPU on its node counts as new.
TOPUP_SETTLE = 3.0
# Ray's node table is read again this often (a GCS round trip and a table per node was
# half the engine's idle cost when read every tick), and at once when a watched node is
# missing from it or its sampler fails.
NODES_SECONDS = 15.0


class OffloadEngine:
    """One tick: read every watched node's sampler, decide, apply. Calls from clients
    (policy changes, reads) and the controller's loop share one lock."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.stored = ray_private.kv_get(kept.POLICY_KEY) is not None
        self.policy = kept.load_policy()
        self.readings = Readings(kept.load_json(kept.SCOPES_KEY, {}))
        self.events: deque[OffloadEvent] = deque(kept.load_events(), maxlen=EVENT_LIMIT)
        self.seq = max((e.seq for e in self.events), default=0)
        self.fences: dict[str, list[str]] = fences.groups()
        self._retry_at: dict[str, float] = {}
        self.drained: dict[str, float] = kept.load_json(kept.DRAINED_KEY, {})
        self._failed: dict[str, str] = {}
        self._settled: dict[str, float] = {}
        self.state: OffloadState = restore(sorted(self.fences))
        self._nodes: dict[str, cluster.RayNode] = {}
        self._nodes_at = -math.inf
        self.still = StillRunningReader()

    @property
    def live(self) -> dict[str, dict[str, Any]]:
        return self.readings.live

    # -- clients --------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        with self._lock:
            out = {
                **self.policy.to_record(),
                "stored": self.stored,
                "scopes": dict(self.readings.scopes),
                "fenced": sorted(self.fences),
                "drained": sorted(self.drained),
                "live": {n: dict(v) for n, v in self.live.items()},
            }
            fenced = {
                n: node.node_id
                for n in self.fences
                if (node := self.nodes().get(n)) is not None and node.alive
            }
            samplers = {n: h for n, h in self.readings.samplers.items() if n in fenced}
        # Outside the engine's lock: a slow GCS read or sampler never holds up its loop.
        out["still_running"] = self.still.read(fenced, samplers)
        return out

    def set_policy(self, record: dict[str, Any], scopes: dict[str, str] | None) -> dict[str, Any]:
        """Replace the running policy (all or nothing: a bad one leaves it as it was).

        A change of policy or mode starts afresh (`_restart`). The answer is the status
        after it, with `changes` (the events the change recorded) and `fenced` read from
        Ray's placement group table once it is done: what Ray holds, not what was meant."""
        try:
            policy = OffloadPolicy.from_record(record)
            scopes = {str(k): str(v) for k, v in (scopes or {}).items()}
            bad = [v for v in scopes.values() if v not in ("host", "ray-processes")]
            if bad:
                raise ValueError(f"unknown sample scope {bad[0]!r}")
        except (ValueError, TypeError, KeyError) as exc:
            raise Refusal("malformed", str(exc)) from None
        with self._lock:
            first = self.seq
            changed = policy != self.policy or scopes != self.readings.scopes
            if scopes != self.readings.scopes:
                self.readings.drop()
                self.readings.scopes = scopes
            self.policy, self.stored = policy, True
            ray_private.kv_put(kept.POLICY_KEY, json.dumps(policy.to_record()).encode())
            ray_private.kv_put(kept.SCOPES_KEY, json.dumps(scopes).encode())
            if changed:
                self._restart()
            changes = [e.to_record() for e in self.events if e.seq > first]
        out = self.status()
        out["changes"] = changes
        try:
            out["fenced"] = sorted(fences.groups())
        except Exception as exc:  # done all the same: say what could not be read
            out["fenced_unread"] = str(exc).splitlines()[0] if str(exc) else repr(exc)
        return out

    def _restart(self) -> None:
        """A new policy or mode (dry-run to live, new thresholds, enable after disable):
        every sustain window starts now and no sample from before is used again; a fence
        the new policy does not keep is lifted now; the watched nodes are sampled now."""
        now = time.time()
        nodes = self.nodes()
        policy = _resolve(self.policy, nodes)
        held = (self.state.fenced & set(self.fences)) - set(self.drained)
        actions, self.state = restart(policy, held, now)
        self.readings.history.clear()
        self._retry_at.clear()
        self._failed.clear()
        for action in actions:
            self._apply(action, nodes)
        if not policy.enabled:
            self.readings.drop()
            return
        if any(nodes.get(n) is None for n in policy.watched):
            nodes = self.nodes(fresh=True)
            policy = _resolve(self.policy, nodes)
        watched = [(n, node) for n in policy.watched if (node := nodes.get(n)) and node.alive]
        self.readings.at_change(watched)

    def busy(self) -> dict[str, str]:
        """{node: why} for nodes auto-offload counts busy: fenced, or (enabled) its last
        reading at or over a threshold even before the sustain time has passed."""
        with self._lock:
            out = {n: "drained" if n in self.drained else "fenced" for n in self.fences}
            if not self.policy.enabled:
                return out
            policy = _resolve(self.policy, self._nodes)
            for node, reading in sorted(self.live.items()):
                for resource in RESOURCES:
                    rule = policy.rule(node, resource)
                    value = reading.get(resource)
                    if node in out or rule is None or value is None:
                        continue
                    if float(value) >= rule.threshold:
                        out[node] = f"{resource} {float(value):.0f}% >= {rule.threshold:g}%"
            return out

    def read_events(self, since: int = 0) -> dict[str, Any]:
        with self._lock:
            found = [e.to_record() for e in self.events if e.seq > since]
            return {"seq": self.seq, "events": found}

    # -- maintenance: `gridtui node drain` and undrain live in drain.py ------------------

    # -- the loop -------------------------------------------------------------------------

    def tick(self) -> int:
        """One pass; the count of actions taken. Idle (disabled, nothing fenced) costs
        nothing but this check."""
        with self._lock:
            if not self.policy.enabled and not self.state.fenced:
                if self.readings.samplers:
                    self.readings.drop()
                return 0
            nodes = self.nodes()
            policy = _resolve(self.policy, nodes)
            if policy.enabled and any(nodes.get(n) is None for n in policy.watched):
                nodes = self.nodes(fresh=True)
                policy = _resolve(self.policy, nodes)
            for name in policy.watched if policy.enabled else ():
                node = nodes.get(name)
                if node is not None and node.alive and not self.readings.sample(name, node):
                    self._nodes_at = -math.inf  # a sampler that failed: Ray's table again
            history = {n: list(h) for n, h in self.readings.history.items()}
            actions, self.state = decide(history, policy, self.state, time.time())
            for action in actions:
                self._apply(action, nodes)
            if policy.enabled and not policy.dry_run:
                self._keep_fences(nodes)
            return len(actions)

    def _keep_fences(self, nodes: dict[str, cluster.RayNode]) -> None:
        """Retry a fence that failed while its node stays over; top a held fence up
        with CPU/GPU that came free on its node since (work that ended there)."""
        over: dict[str, Trigger] = {}
        for (node, _), trigger in self.state.over.items():
            over.setdefault(node, trigger)
        now = time.time()
        for node, trigger in sorted(over.items()):
            if node in self.state.fenced or now < self._retry_at.get(node, 0.0):
                continue
            result = self._fence(node, nodes.get(node))
            if result.startswith("failed"):
                self._retry_at[node] = now + FENCE_RETRY
                if self._failed.get(node) == result:
                    continue  # the same failure again: said once already
                self._failed[node] = result
                result += f"; not fenced, tried again every {FENCE_RETRY:g}s while over"
            else:
                self._failed.pop(node, None)
                self.state = dataclasses.replace(self.state, fenced=self.state.fenced | {node})
            self._record(OffloadAction("fence", node, trigger, now), result)
        if not self.fences:
            return
        free = ray_private.available_per_node()
        for node, ids in sorted(self.fences.items()):
            ray_node = nodes.get(node)
            if ray_node is None or not ray_node.alive:
                continue
            bundle = fences.free_bundle(free.get(ray_node.node_id, {}))
            if not bundle or time.monotonic() < self._settled.get(node, 0.0):
                continue
            pg_id, _ = fences.hold(ray_node, bundle, len(ids) + 1)
            self._settled[node] = time.monotonic() + TOPUP_SETTLE
            if pg_id is None:
                continue  # best effort: the fence holds what it held; tried again later
            ids.append(pg_id)
            why = over.get(node) or Trigger.because("fenced")
            result = f"done: topped up with {fences.held(bundle)} that came free"
            self._record(OffloadAction("fence", node, why, now), result)

    def nodes(self, fresh: bool = False) -> dict[str, cluster.RayNode]:
        """Ray's node table, cached for NODES_SECONDS."""
        now = time.monotonic()
        if fresh or not self._nodes or now - self._nodes_at >= NODES_SECONDS:
            self._nodes, self._nodes_at = cluster.ray_nodes(), now
        return self._nodes

    def _apply(self, action: OffloadAction, nodes: dict[str, cluster.RayNode]) -> None:
        if action.kind == "unfence" and action.node in self.drained:
            result = "kept: the node is drained (`gridtui node undrain` lifts its fence)"
        elif action.kind == "unfence" and action.node in self.fences:
            # A real fence is lifted even in dry-run (one held from before dry-run began).
            result = self._unfence(action.node)
        elif action.dry_run:
            result = "dry-run"
        elif action.kind == "fence":
            result = self._fence(action.node, nodes.get(action.node))
            if result.startswith("failed"):
                # Not counted as fenced: retried while the node stays over.
                self.state = dataclasses.replace(
                    self.state, fenced=self.state.fenced - {action.node}
                )
                self._retry_at[action.node] = time.time() + FENCE_RETRY
                self._failed[action.node] = result
                result += f"; not fenced, tried again every {FENCE_RETRY:g}s while over"
        elif action.kind == "unfence":
            result = self._unfence(action.node)
        else:
            result = self.spill(action.node, action.trigger)
        self._record(action, result)

    def spill(self, node: str, trigger: Trigger) -> str:
        """Move every memory-store object off `node` (to nodes that are neither fenced
        nor busy), one event per object; the result sums them up."""
        avoid = sorted(set(self.busy()) | {node})
        host = registry.find_memory_host()
        if host is None:
            return "done: nothing stored (no memory index runs: never used, or retired empty)"
        ask = Evacuate(node, avoid)
        try:
            got = answer(ray.get(host.call.remote(encode(ask)), timeout=MOVE_TIMEOUT), ask)
        except Exception as exc:
            return f"failed: the memory index did not move them: {str(exc).splitlines()[0]}"
        if isinstance(got, WireError):
            return f"failed: the memory index did not move them: {got.message}"
        moves = got.moves
        for m in moves:
            where = f"{m['from']} -> {m['to']}" if m["to"] else f"off {m['from']}"
            text = f"{m['key']} ({human(m['size'])}) {where}"
            verdict, _, why = str(m["result"]).partition(": ")
            self._record(
                OffloadAction("move", node, trigger, time.time()),
                f"{verdict}: {text}" + (f": {why}" if why else ""),
            )
        done = [m for m in moves if m["result"] == "done"]
        size = human(sum(int(m["size"]) for m in done))
        if len(done) == len(moves):
            return f"done: {len(done)} objects moved ({size})" if moves else "done: none stored"
        return f"failed: {len(moves) - len(done)} of {len(moves)} objects stayed ({size} moved)"

    def _record(self, action: OffloadAction, result: str) -> None:
        """One event, stamped with the time it was carried out (the decision's: a reading
        that triggered it is older), never before the one before it. Under the lock: a
        drain records from its own thread."""
        with self._lock:
            self.seq += 1
            when = max(time.time(), self.events[-1].time if self.events else 0.0)
            event = OffloadEvent(self.seq, when, action.node, action.trigger, action.kind, result)
            self.events.append(event)
            data = [e.to_record() for e in self.events]
            ray_private.kv_put(kept.EVENTS_KEY, json.dumps(data).encode())

    def _fence(self, name: str, node: cluster.RayNode | None) -> str:
        """Hold the node's free CPU/GPU. Nothing free holds nothing yet but counts as
        fenced: what comes free later is taken by the top-up."""
        if node is None or not node.alive:
            return "failed: the node is not alive in Ray"
        if name in self.fences:
            return "done: already fenced"
        free = ray_private.available_per_node().get(node.node_id, {})
        bundle = fences.free_bundle(free)
        if not bundle:
            self.fences[name] = []
            return "done: nothing free to hold yet (what comes free is taken)"
        pg_id, result = fences.hold(node, bundle, 0)
        if pg_id is not None:
            self.fences[name] = [pg_id]
            # Ray's free figures lag a placed group a moment: no top-up until they settle.
            self._settled[name] = time.monotonic() + TOPUP_SETTLE
        return result

    def _unfence(self, name: str) -> str:
        self._retry_at.pop(name, None)
        self._failed.pop(name, None)
        return fences.lift(self.fences.pop(name, []))


def _resolve(policy: OffloadPolicy, nodes: dict[str, cluster.RayNode]) -> OffloadPolicy:
    """The head's alias replaced by its name, in `watched` and in `overrides`."""
    head = next((n.name for n in nodes.values() if n.head and n.alive), None)
    if head is None:
        return policy
    watched = tuple(dict.fromkeys(head if w == HEAD else w for w in policy.watched))
    overrides = {head if k == HEAD else k: v for k, v in policy.overrides.items()}
    return dataclasses.replace(policy, watched=watched, overrides=overrides)
