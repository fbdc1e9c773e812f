"""Ways to reach a node: SSH for remote machines, subprocess for this one."""

from gridtui.transport.base import (
    CommandResult,
    LineStream,
    NodeTransport,
    TransportError,
    command_line,
)

__all__ = ["CommandResult", "LineStream", "NodeTransport", "TransportError", "command_line"]
