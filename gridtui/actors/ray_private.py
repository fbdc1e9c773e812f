"""The one place gridtui uses Ray's private API; tests/unit/test_ray_private.py names each use.

Nothing public in Ray 2.60 offers a key-value store in the GCS or per-node available
resources without the dashboard, so these few calls live here and an upgrade breaks here."""

from __future__ import annotations

import ray
from ray.experimental import internal_kv

NAMESPACE = "gridtui"

# Every private symbol this module reaches, as dotted paths from `ray`.
SYMBOLS = (
    "ray.experimental.internal_kv._internal_kv_get",
    "ray.experimental.internal_kv._internal_kv_put",
    "ray.experimental.internal_kv._internal_kv_del",
    "ray.experimental.internal_kv._internal_kv_list",
    "ray._private.state.state.available_resources_per_node",
)


def kv_get(key: str) -> bytes | None:
    value = internal_kv._internal_kv_get(key, namespace=NAMESPACE)
    return None if value is None else bytes(value)


def kv_put(key: str, value: bytes) -> None:
    internal_kv._internal_kv_put(key, value, overwrite=True, namespace=NAMESPACE)


def kv_del(key: str) -> None:
    internal_kv._internal_kv_del(key, namespace=NAMESPACE)


def kv_keys(prefix: str) -> list[str]:
    keys = internal_kv._internal_kv_list(prefix, namespace=NAMESPACE)
    return sorted(k.decode() if isinstance(k, bytes) else str(k) for k in keys)


def available_per_node() -> dict[str, dict[str, float]]:
    """{node id hex: {resource: available}}; a resource at zero is left out by Ray."""
    table = ray._private.state.state.available_resources_per_node()
    return {str(k): {str(r): float(v) for r, v in res.items()} for k, res in table.items()}
