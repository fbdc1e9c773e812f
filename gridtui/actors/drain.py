"""`gridtui node drain`: fence a worker, move its stored objects off, then Ray's own drain,
while the client that asked waits; undrain; drains a controller restart cut short.

A drain runs on its own thread, holding the offload engine's lock only for bookkeeping, so
status, boosts and the engine's pass never wait for its fence or its object moves. Until
Ray's drain is asked for, everything it did is undone when its client goes away (Ctrl-C,
SIGKILL, a lost network: it stops renewing a lease like a pending request's). Ray's drain
itself cannot be undone: Ray 2.60 has no call for it (its GCS offers DrainNode only); a
drained raylet takes no new work until Ray restarts on the node, and Ray ends it by itself
once the node is idle."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from typing import TYPE_CHECKING, Any

from gridtui.actors import cluster, fences, ray_private
from gridtui.actors import offload_kept as kept
from gridtui.actors.asks import Refusal
from gridtui.actors.upkeep import LEASE_SECONDS
from gridtui.model.offload import OffloadAction, Trigger

if TYPE_CHECKING:
    from gridtui.actors.offload_engine import OffloadEngine

# A drain waits this long for Ray to place its fence (its client still there), then goes
# on without one: Ray's drain alone keeps new work off.
FENCE_WAIT = 30.0
POLL = 0.1
TRIGGER = Trigger("drain", 0.0, 0.0, 0.0)
UNDONE = (
    "Ray's drain cannot be undone (Ray has no call for it): {node} takes no new work until "
    "Ray restarts on it, and Ray ends its raylet by itself once the node is idle"
)


class Withdrawn(Exception):
    """The drain's client went away before Ray's drain: what it did is undone."""


class DrainJob:
    """One drain in progress. `step`: fence, move, ray, then done, or withdrawn (undone)."""

    def __init__(self, engine: OffloadEngine, node: cluster.RayNode) -> None:
        self.engine = engine
        self.node = node
        self.name = node.name
        self.step = "fence"
        self.result: dict[str, str] = {}
        self.lease_until = time.time() + LEASE_SECONDS
        self._cancel = ""
        self._thread = threading.Thread(target=self._run, name=f"drain-{self.name}", daemon=True)

    @property
    def running(self) -> bool:
        return self.step in ("fence", "move", "ray")

    def start(self) -> None:
        self._thread.start()

    def renew(self) -> None:
        self.lease_until = time.time() + LEASE_SECONDS

    def cancel(self, why: str) -> None:
        self._cancel = why or "its client gave up"

    def view(self) -> dict[str, Any]:
        return {"node": self.name, "step": self.step, "lease": LEASE_SECONDS, **self.result}

    def _check(self) -> None:
        if self._cancel:
            raise Withdrawn(self._cancel)
        if time.time() > self.lease_until:
            raise Withdrawn("its client stopped renewing (gone, interrupted or cut off)")

    def _run(self) -> None:
        try:
            self.result["fence"] = self._fence()
            self._check()
            self.step = "move"
            self.result["spill"] = self.engine.spill(self.name, TRIGGER)
            self._check()
            self.step = "ray"
            self.result["ray"] = self._ray_drain()
            self.step = "done"
        except Withdrawn as exc:
            self._undo(str(exc))
        except Exception as exc:  # a Ray hiccup: said, and undone like a withdrawal
            self._undo(f"it failed: {str(exc).splitlines()[0] if str(exc) else exc!r}")

    def _fence(self) -> str:
        """Hold the node's free CPU/GPU, waiting (its client there) for Ray to place it."""
        e = self.engine
        with e._lock:
            if self.name in e.fences:
                return self._said("fence", "done: already fenced")
            bundle = fences.free_bundle(ray_private.available_per_node().get(self.node.node_id, {}))
            if not bundle:
                e.fences[self.name] = []
                return self._said(
                    "fence", "done: nothing free to hold yet (what comes free is taken)"
                )
            try:
                pg_id = fences.place(self.node, bundle, 0)
            except Exception as exc:
                return self._said("fence", f"failed: {str(exc).splitlines()[0]}")
            e.fences[self.name] = [pg_id]
        deadline = time.monotonic() + FENCE_WAIT
        while True:
            entry = cluster.group_entry(pg_id)
            if entry is not None and entry.get("state") == "CREATED":
                with e._lock:
                    e._settled[self.name] = time.monotonic() + 3.0  # Ray's figures lag a moment
                return self._said("fence", f"done: holding {fences.held(bundle)}")
            self._check()  # withdrawn: the fence is lifted with the rest
            if time.monotonic() > deadline:
                with e._lock:
                    e.fences.pop(self.name, None)
                    fences.lift([pg_id])
                return self._said(
                    "fence", f"failed: Ray did not place the fence within {FENCE_WAIT:g}s"
                )
            time.sleep(POLL)

    def _ray_drain(self) -> str:
        try:
            accepted, why = ray_private.drain_node(self.node.node_id, "gridtui node drain")
            ray_result = "done: Ray drains it" if accepted else f"failed: Ray refused: {why}"
        except Exception as exc:
            ray_result = f"failed: {str(exc).splitlines()[0]}"
        fence = self.result.get("fence", "").partition(":")[0]
        self._said("drain", f"{ray_result}; fence {fence}; objects {self.result.get('spill')}")
        return ray_result

    def _undo(self, why: str) -> None:
        e = self.engine
        with e._lock:
            forget(e, self.name)
            fence = "kept (auto-offload holds it fenced)"
            if self.name not in e.state.fenced:
                fence = e._unfence(self.name)
            e._record(
                OffloadAction("undrain", self.name, TRIGGER, time.time()),
                f"done: drain withdrawn before Ray's drain ({why}); fence lifted: {fence}",
            )
        self.result["withdrawn"] = why
        self.step = "withdrawn"

    def _said(self, action: str, result: str) -> str:
        with self.engine._lock:
            self.engine._record(OffloadAction(action, self.name, TRIGGER, time.time()), result)
        return result


def forget(engine: OffloadEngine, name: str) -> None:
    """Drop `name` from the drained set, in memory and in Ray's KV (engine lock held)."""
    engine.drained.pop(name, None)
    ray_private.kv_put(kept.DRAINED_KEY, json.dumps(engine.drained).encode())


def begin(engine: OffloadEngine, name: str, jobs: dict[str, DrainJob]) -> dict[str, Any]:
    """Check and start a drain: {"node", "step", "lease"} at once, or a Refusal."""
    with engine._lock:
        nodes = engine.nodes(fresh=True)
        node = nodes.get(name)
        if node is None:
            known = ", ".join(sorted(nodes)) or "none"
            raise Refusal("unknown", f"no Ray node named {name!r} (Ray has: {known})")
        if node.head:
            raise Refusal(
                "refused",
                f"{name} is the head: draining it would stop the cluster "
                "(auto-offload fences it instead)",
            )
        job = jobs.get(name)
        if job is not None and job.running:
            raise Refusal("refused", f"a drain of {name} is under way already")
        if name in engine.drained:
            raise Refusal("refused", f"{name} is drained already (`gridtui node undrain {name}`)")
        if not node.alive:
            raise Refusal("refused", f"{name} is not alive in Ray")
        engine.drained[name] = time.time()
        ray_private.kv_put(kept.DRAINED_KEY, json.dumps(engine.drained).encode())
        job = jobs[name] = DrainJob(engine, node)
    job.start()
    return job.view()


def progress(jobs: dict[str, DrainJob], name: str, cancel: str = "") -> dict[str, Any]:
    """A waiting client's look (its lease renewed), or its cancel: the job's view."""
    job = jobs.get(name)
    if job is None:
        raise Refusal("unknown", f"no drain of {name!r} was started by this controller")
    if cancel:
        job.cancel(cancel)
    else:
        job.renew()
    return job.view()


def undrain(engine: OffloadEngine, name: str, jobs: dict[str, DrainJob]) -> dict[str, Any]:
    """Lift the drain's fence (kept when auto-offload holds the node fenced itself) and
    forget the drain; say plainly what Ray keeps."""
    job = jobs.get(name)
    if job is not None and job.running:
        raise Refusal("refused", f"a drain of {name} is under way: interrupt it instead")
    with engine._lock:
        if name not in engine.drained:
            drained = ", ".join(sorted(engine.drained)) or "none"
            raise Refusal("refused", f"{name} is not drained (drained: {drained})")
        forget(engine, name)
        if name in engine.state.fenced:
            fence = "kept: auto-offload holds it fenced (over a threshold)"
        else:
            fence = engine._unfence(name)
        node = engine.nodes(fresh=True).get(name)
        if node is not None and node.alive and node.node_id in ray_private.draining_nodes():
            ray_text = "kept: " + UNDONE.format(node=name)
        elif node is not None and node.alive:
            ray_text = "none: Ray does not drain it (it was never asked, or Ray restarted on it)"
        else:
            ray_text = f"gone: Ray ended {name}'s drained raylet; restart Ray on it to use it"
        engine._record(OffloadAction("undrain", name, TRIGGER, time.time()), fence)
        return {"node": name, "fence": fence, "ray": ray_text}


def recover(engine: OffloadEngine) -> list[str]:
    """After a controller restart: a node marked drained that is alive and that Ray does
    not drain had its drain cut short before Ray's step (or Ray restarted on it): its
    fence is lifted and the mark forgotten. The nodes so undone."""
    with engine._lock:
        if not engine.drained:
            return []
        nodes = engine.nodes(fresh=True)
        ids = ray_private.draining_nodes()
        undone = []
        for name in sorted(engine.drained):
            node = nodes.get(name)
            if node is None or not node.alive or node.node_id in ids:
                continue
            forget(engine, name)
            engine.state = dataclasses.replace(engine.state, fenced=engine.state.fenced - {name})
            fence = engine._unfence(name)
            engine._record(
                OffloadAction("undrain", name, TRIGGER, time.time()),
                f"done: its drain never reached Ray's step (a controller restart); fence {fence}",
            )
            undone.append(name)
        return undone
