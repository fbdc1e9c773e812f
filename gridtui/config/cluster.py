"""The whole cluster file: its sections, and the checks that span them (names, roles)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import Field, model_validator

from gridtui import configvalues as values
from gridtui.config.fields import Flag, Strict, checked
from gridtui.config.offload import OffloadSettings
from gridtui.config.sections import AlertSettings, NodeConfig, RaySettings, SshSettings, UiSettings
from gridtui.configfile import MAX_NODES, ConfigError
from gridtui.configvalues import HISTORY, SAMPLE_INTERVAL
from gridtui.model.offload import HEAD


class ClusterConfig(Strict):
    name: Annotated[str, checked(values.text_check(63))] = "cluster"
    sample_interval: Annotated[float, checked(SAMPLE_INTERVAL.check)] = 1.0
    history_seconds: Annotated[float, checked(HISTORY.check)] = 600.0
    demo: Flag = False
    nodes: list[NodeConfig] = Field(min_length=1, max_length=MAX_NODES)
    ssh: SshSettings = Field(default_factory=SshSettings)
    ray: RaySettings = Field(default_factory=RaySettings)
    ui: UiSettings = Field(default_factory=UiSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    offload: OffloadSettings = Field(default_factory=OffloadSettings)

    @model_validator(mode="after")
    def _roles_and_names(self) -> ClusterConfig:
        seen: set[str] = set()
        for i, node in enumerate(self.nodes):
            if node.name in seen:
                raise ValueError(
                    values.at(("nodes", i, "name"), f"node name {node.name!r} is used twice")
                )
            seen.add(node.name)
        for i, name in enumerate(self.offload.watched):
            if name != HEAD and name not in seen:
                raise ValueError(
                    values.at(("offload", "watched", i), f"no node named {name!r} to watch")
                )
        for name in self.offload.overrides:
            if name != HEAD and name not in seen:
                raise ValueError(
                    values.at(("offload", "overrides", name), f"no node named {name!r}")
                )
        heads = [i for i, n in enumerate(self.nodes) if n.role == "head"]
        if len(heads) > 1:
            names = ", ".join(self.nodes[i].name for i in heads)
            raise ValueError(
                values.at(
                    ("nodes", heads[1], "role"), f"only one node can be the head, found {names}"
                )
            )
        return self

    @property
    def head(self) -> NodeConfig:
        """The Ray head: the node marked head, else the first node (the seed's convention)."""
        return next((n for n in self.nodes if n.role == "head"), self.nodes[0])

    def node(self, name: str) -> NodeConfig:
        for node in self.nodes:
            if node.name == name:
                return node
        known = ", ".join(n.name for n in self.nodes)
        raise ConfigError([f"unknown node {name!r} (known: {known})"])


@dataclass(frozen=True)
class LoadedConfig:
    config: ClusterConfig
    path: Path | None
