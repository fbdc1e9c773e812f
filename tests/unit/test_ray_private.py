"""Each private Ray name gridtui uses still exists, and none is used outside the adapter."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

from gridtui.actors import ray_private

ROOT = Path(__file__).resolve().parents[2] / "gridtui"
# The node script runs alone on nodes, so it cannot import the adapter: it is listed there.
ALLOWED = {ROOT / "actors" / "ray_private.py", ROOT / "agent" / "nodescript.py"}


@pytest.mark.parametrize(("module", "name", "why"), ray_private.PRIVATE_NAMES)
def test_each_private_name_still_exists(module: str, name: str, why: str) -> None:
    found = importlib.import_module(module)
    assert hasattr(found, name), f"Ray moved {module}.{name} ({why}): update ray_private.py"


def test_the_driver_message_hook_keeps_its_signature() -> None:
    worker = importlib.import_module("ray._private.worker")
    params = list(inspect.signature(worker.print_to_stdstream).parameters)
    assert params == ["data", "ignore_prefix"], params


def test_the_global_state_has_the_methods_gridtui_calls() -> None:
    state = importlib.import_module("ray._private.state").state
    for method in ray_private.STATE_METHODS:
        assert callable(getattr(state, method, None)), f"GlobalState.{method} is gone"


def test_private_ray_appears_only_in_the_adapter_and_the_node_script() -> None:
    pattern = re.compile(
        r"\bray\._private\b|\b_private\.(state|worker|internal_api)\b|\binternal_kv\b"
    )
    users = {p for p in ROOT.rglob("*.py") if pattern.search(p.read_text(encoding="utf-8"))}
    assert users <= ALLOWED, sorted(str(p) for p in users - ALLOWED)


def test_every_private_use_in_the_adapter_and_the_script_is_listed() -> None:
    listed = {f"{m}.{n}" for m, n, _ in ray_private.PRIVATE_NAMES}
    adapter = (ROOT / "actors" / "ray_private.py").read_text(encoding="utf-8")
    for use in re.findall(r"internal_kv\.(_\w+)\(", adapter):
        assert f"ray.experimental.internal_kv.{use}" in listed, use
    script = (ROOT / "agent" / "nodescript.py").read_text(encoding="utf-8")
    for module, name in re.findall(r"from (ray\._private\.\w+) import (\w+)", script):
        assert f"{module}.{name}" in listed, f"{module}.{name} is not listed in ray_private.py"


def test_the_actor_table_has_what_alive_actors_reads() -> None:
    raylet = importlib.import_module("ray._raylet")
    assert callable(getattr(raylet.GlobalStateAccessor, "get_actor_table", None))
    table = importlib.import_module("ray.core.generated.gcs_pb2").ActorTableData
    fields = {f.name for f in table.DESCRIPTOR.fields}
    need = {"actor_id", "class_name", "name", "ray_namespace", "address", "node_id", "pid"}
    need.add("required_resources")
    assert need <= fields, sorted(need - fields)


def test_the_core_worker_kills_actors_by_id() -> None:
    # ray_private.kill_actor: what ray.kill(handle) calls, with an id instead of a handle.
    raylet = importlib.import_module("ray._raylet")
    assert callable(getattr(raylet.CoreWorker, "kill_actor", None))
    assert callable(getattr(raylet.ActorID, "from_hex", None))


def test_the_auth_caches_can_be_read_again() -> None:
    """reload_auth: a process that drove one cluster connects to the next with its token."""
    raylet = importlib.import_module("ray._raylet")
    assert callable(getattr(raylet.Config, "initialize", None))
    assert callable(getattr(raylet.AuthenticationTokenLoader.instance(), "reset_cache", None))
