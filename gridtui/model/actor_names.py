"""The names of gridtui's actors in Ray: read without Ray (actors/registry.py starts them)."""

NAMESPACE = "gridtui"
CONTROLLER_NAME = "gridtui-controller"
INDEX_NAME = "gridtui-memory-index"
SAMPLER_PREFIX = "gridtui:sampler:"
