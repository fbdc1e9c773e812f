"""The cluster file: pydantic models; YAML loading whose errors name file, line, field, value."""

from gridtui.config.cluster import ClusterConfig, LoadedConfig
from gridtui.config.loading import find_config, load_config, parse_config, require_config
from gridtui.config.offload import OffloadOverride, OffloadSettings, OffloadThresholds
from gridtui.config.sections import (
    AlertSettings,
    NodeConfig,
    RaySettings,
    Resources,
    SshSettings,
    UiSettings,
)
from gridtui.configfile import MAX_NODES, ConfigError
from gridtui.configvalues import Range, human_size, parse_size, show, theme_names

__all__ = [
    "MAX_NODES",
    "AlertSettings",
    "ClusterConfig",
    "ConfigError",
    "LoadedConfig",
    "NodeConfig",
    "OffloadOverride",
    "OffloadSettings",
    "OffloadThresholds",
    "Range",
    "RaySettings",
    "Resources",
    "SshSettings",
    "UiSettings",
    "find_config",
    "human_size",
    "load_config",
    "parse_config",
    "parse_size",
    "require_config",
    "show",
    "theme_names",
]
