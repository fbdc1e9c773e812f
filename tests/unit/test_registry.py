"""Every gridtui actor is started in one place, with its name, namespace, lifetime and
resources as the docs say (Ray's `remote` recorded, not run)."""

from __future__ import annotations

from typing import Any

import pytest

from gridtui.actors import registry
from gridtui.model import actor_names


class FakeRay:
    """`ray.remote(cls).options(**o).remote(*args)` and `ray.get_actor`, recorded."""

    def __init__(self) -> None:
        self.started: list[tuple[type, dict[str, Any], tuple[Any, ...]]] = []
        self.named: dict[tuple[str, str], object] = {}

    def remote(self, cls: type) -> Any:
        fake = self

        class Options:
            def options(self, **options: Any) -> Any:
                class Remote:
                    def remote(self, *args: Any) -> str:
                        fake.started.append((cls, options, args))
                        return f"handle:{options['name']}"

                return Remote()

        return Options()

    def get_actor(self, name: str, namespace: str) -> object:
        if (name, namespace) not in self.named:
            raise ValueError(f"Failed to look up actor with name '{name}'")
        return self.named[name, namespace]


@pytest.fixture
def ray(monkeypatch: pytest.MonkeyPatch) -> FakeRay:
    fake = FakeRay()
    monkeypatch.setattr(registry, "ray", fake)
    return fake


class Controller: ...


class Host: ...


class Shard: ...


class Sampler: ...


def test_each_actor_is_started_with_its_place_and_lifetime(ray: FakeRay) -> None:
    assert registry.start_controller(Controller, "9.9", "ab" * 28) == "handle:gridtui-controller"
    registry.start_memory_host(Host)
    registry.start_shard(Shard, "cd" * 28, "worker-1")
    registry.start_sampler(Sampler, "worker-2", "ef" * 28, "host", "/tmp/w2", 1.0, 0)
    by_class = {cls: (options, args) for cls, options, args in ray.started}
    options, args = by_class[Controller]
    assert args == ("9.9",) and options["max_restarts"] == -1
    assert options["scheduling_strategy"].node_id == "ab" * 28
    assert not options["scheduling_strategy"].soft
    assert by_class[Host][0]["resources"] == {"node:__internal_head__": 0.001}
    assert by_class[Shard] == (by_class[Shard][0], ("cd" * 28, "worker-1"))
    assert by_class[Shard][0]["name"] == "gridtui-memory-shard-" + "cd" * 28
    assert by_class[Shard][0]["max_restarts"] == 0
    assert by_class[Sampler][0]["name"] == "gridtui:sampler:worker-2"
    for cls, options, _ in ray.started:
        assert options["namespace"] == actor_names.NAMESPACE and options["num_cpus"] == 0
        assert options["get_if_exists"], cls
        # Samplers end with the controller that owns them; every other actor outlives it.
        assert options.get("lifetime") == (None if cls is Sampler else "detached"), cls


def test_an_actor_that_does_not_run_is_none_and_a_running_one_is_found(ray: FakeRay) -> None:
    assert registry.find_controller() is None and registry.find_memory_host() is None
    ray.named["gridtui-memory-index", "gridtui"] = host = object()
    assert registry.find_memory_host() is host and registry.find_shard("cd") is None
