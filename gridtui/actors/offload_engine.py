"""The auto-offload engine: samples watched nodes, runs the pure policy, fences and lifts.

It lives in the GridController (ticked from its loop), so it works with no console open.
Ray's placement group table is the truth for fences (`gridtui:fence:<node>`, detached), so
a restarted controller finds them by name; the policy and the bounded event log are kept
in Ray's KV."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections import deque
from typing import Any

import ray
from ray.util.placement_group import placement_group, placement_group_table
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from gridtui.actors import cluster, ray_private
from gridtui.actors.node_sampler import NodeSampler
from gridtui.model.offload import (
    HEAD,
    RESOURCES,
    OffloadAction,
    OffloadEvent,
    OffloadPolicy,
    fence_name,
    fenced_node,
)
from gridtui.model.reservations import NODE_LABEL
from gridtui.policy.offload import OffloadState, Sample, decide, restore

POLICY_KEY = "offload:policy"
SCOPES_KEY = "offload:scopes"
EVENTS_KEY = "offload:events"
EVENT_LIMIT = 500
HISTORY_SAMPLES = 600
SAMPLE_TIMEOUT = 2.0
FENCE_WAIT = 5
SAMPLER_PREFIX = "gridtui:sampler:"
NAMESPACE = "gridtui"


class OffloadEngine:
    """One tick: read every watched node's sampler, decide, apply. Calls from clients
    (policy changes, reads) and the controller's loop share one lock."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.stored = ray_private.kv_get(POLICY_KEY) is not None
        self.policy = _load_policy()
        self.scopes: dict[str, str] = _load_json(SCOPES_KEY, {})
        self.events: deque[OffloadEvent] = deque(_load_events(), maxlen=EVENT_LIMIT)
        self.seq = max((e.seq for e in self.events), default=0)
        self.history: dict[str, deque[Sample]] = {}
        self.samplers: dict[str, Any] = {}
        self.fences = _fence_groups()
        self.state: OffloadState = restore(sorted(self.fences))
        self.live: dict[str, dict[str, Any]] = {}

    # -- clients --------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                **self.policy.to_record(),
                "stored": self.stored,
                "scopes": dict(self.scopes),
                "fenced": sorted(self.fences),
                "live": {n: dict(v) for n, v in self.live.items()},
            }

    def set_policy(self, record: dict[str, Any], scopes: dict[str, str] | None) -> dict[str, Any]:
        """Replace the running policy (all or nothing: a bad one leaves it as it was)."""
        try:
            policy = OffloadPolicy.from_record(record)
            scopes = {str(k): str(v) for k, v in (scopes or {}).items()}
            bad = [v for v in scopes.values() if v not in ("host", "ray-processes")]
            if bad:
                raise ValueError(f"unknown sample scope {bad[0]!r}")
        except (ValueError, TypeError, KeyError) as exc:
            return {"error": {"kind": "malformed", "message": str(exc)}}
        with self._lock:
            if scopes != self.scopes:
                self._drop_samplers()
            self.policy, self.scopes, self.stored = policy, scopes, True
            ray_private.kv_put(POLICY_KEY, json.dumps(policy.to_record()).encode())
            ray_private.kv_put(SCOPES_KEY, json.dumps(scopes).encode())
        return self.status()

    def read_events(self, since: int = 0) -> dict[str, Any]:
        with self._lock:
            found = [e.to_record() for e in self.events if e.seq > since]
            return {"seq": self.seq, "events": found}

    # -- the loop -------------------------------------------------------------------------

    def tick(self) -> int:
        """One pass; the count of actions taken. Idle (disabled, nothing fenced) costs
        nothing but this check."""
        with self._lock:
            if not self.policy.enabled and not self.state.fenced:
                if self.samplers:
                    self._drop_samplers()
                return 0
            nodes = cluster.ray_nodes()
            policy = _resolve(self.policy, nodes)
            for name in policy.watched if policy.enabled else ():
                node = nodes.get(name)
                if node is not None and node.alive:
                    self._sample(name, node)
            history = {n: list(h) for n, h in self.history.items()}
            actions, self.state = decide(history, policy, self.state, time.time())
            for action in actions:
                self._apply(action, nodes)
            return len(actions)

    def _sample(self, name: str, node: cluster.RayNode) -> None:
        handle = self.samplers.get(name)
        if handle is None:
            handle = self.samplers[name] = self._start_sampler(name, node)
        try:
            reading = ray.get(handle.sample.remote(), timeout=SAMPLE_TIMEOUT)
        except Exception:  # a dead or slow sampler: start another next time
            self.samplers.pop(name, None)
            return
        self.live[name] = reading
        values = {r: float(reading[r]) for r in RESOURCES if reading.get(r) is not None}
        self.history.setdefault(name, deque(maxlen=HISTORY_SAMPLES)).append(
            (float(reading["t"]), values)
        )

    def _start_sampler(self, name: str, node: cluster.RayNode) -> Any:
        scope = self.scopes.get(name, "host")
        cpus = node.total.get("CPU", 1.0)
        memory = int(node.total.get("memory", 0))
        return (
            ray.remote(NodeSampler)
            .options(
                name=SAMPLER_PREFIX + name,
                namespace=NAMESPACE,
                get_if_exists=True,
                num_cpus=0,
                scheduling_strategy=NodeAffinitySchedulingStrategy(node.node_id, soft=False),
            )
            .remote(scope, node.address, cpus, memory)
        )

    def _drop_samplers(self) -> None:
        for handle in self.samplers.values():
            try:
                ray.kill(handle)
            except Exception:
                continue
        self.samplers.clear()
        self.history.clear()

    def _apply(self, action: OffloadAction, nodes: dict[str, cluster.RayNode]) -> None:
        if action.kind == "unfence" and action.node in self.fences:
            # A real fence is lifted even in dry-run (one held from before dry-run began).
            result = self._unfence(action.node)
        elif action.dry_run:
            result = "dry-run"
        elif action.kind == "fence":
            result = self._fence(action.node, nodes.get(action.node))
        elif action.kind == "unfence":
            result = self._unfence(action.node)
        else:
            result = "not done: spilling is not built yet"
        self.seq += 1
        event = OffloadEvent(
            self.seq, action.time, action.node, action.trigger, action.kind, result
        )
        self.events.append(event)
        data = [e.to_record() for e in self.events]
        ray_private.kv_put(EVENTS_KEY, json.dumps(data).encode())

    def _fence(self, name: str, node: cluster.RayNode | None) -> str:
        if node is None or not node.alive:
            return "failed: the node is not alive in Ray"
        free = ray_private.available_per_node().get(node.node_id, {})
        bundle = {r: free[r] for r in ("CPU", "GPU") if free.get(r, 0.0) > 0}
        if not bundle:
            return "done: nothing free to hold"
        selector: dict[str, str] = {}
        if node.labelled:
            selector = {NODE_LABEL: node.name}
        else:
            bundle[f"node:{node.address}"] = cluster.PIN_AMOUNT
        try:
            group = placement_group(
                [bundle],
                strategy="STRICT_PACK",
                name=fence_name(name),
                lifetime="detached",
                bundle_label_selector=[selector],
            )
            ready = group.wait(FENCE_WAIT)
        except Exception as exc:
            return f"failed: {str(exc).splitlines()[0]}"
        if not ready:
            cluster.remove_group(group.id.hex())
            return f"failed: Ray did not place the fence within {FENCE_WAIT}s"
        self.fences[name] = group.id.hex()
        held = ", ".join(f"{v:g} {k}" for k, v in bundle.items() if not k.startswith("node:"))
        return f"done: holding {held}"

    def _unfence(self, name: str) -> str:
        pg_id = self.fences.pop(name, "")
        if not pg_id:
            return "done: no fence was held"
        try:
            cluster.remove_group(pg_id)
        except Exception as exc:
            return f"failed: {str(exc).splitlines()[0]}"
        return "done"


def _resolve(policy: OffloadPolicy, nodes: dict[str, cluster.RayNode]) -> OffloadPolicy:
    """The head's alias replaced by its name, in `watched` and in `overrides`."""
    head = next((n.name for n in nodes.values() if n.head and n.alive), None)
    if head is None:
        return policy
    watched = tuple(dict.fromkeys(head if w == HEAD else w for w in policy.watched))
    overrides = {head if k == HEAD else k: v for k, v in policy.overrides.items()}
    return dataclasses.replace(policy, watched=watched, overrides=overrides)


def _fence_groups() -> dict[str, str]:
    """{node: group id} of every live fence in Ray's table."""
    out: dict[str, str] = {}
    for entry in placement_group_table().values():
        node = fenced_node(str(entry.get("name", "")))
        if node is not None and entry.get("state") != "REMOVED":
            out[node] = str(entry["placement_group_id"])
    return out


def _load_json(key: str, default: Any) -> Any:
    raw = ray_private.kv_get(key)
    if raw is None:
        return default
    try:
        return json.loads(raw)
    except ValueError:
        return default


def _load_policy() -> OffloadPolicy:
    try:
        return OffloadPolicy.from_record(_load_json(POLICY_KEY, {}))
    except (ValueError, TypeError, KeyError, AttributeError):
        return OffloadPolicy()


def _load_events() -> list[OffloadEvent]:
    out = []
    for data in _load_json(EVENTS_KEY, []):
        try:
            out.append(OffloadEvent.from_record(data))
        except (ValueError, TypeError, KeyError):
            continue
    return out
